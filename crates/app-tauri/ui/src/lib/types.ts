// The JSON the desktop commands take and return, exactly as the Rust side (de)serialises it
// (snake_case field names). The types are generated from the Rust types into
// ./generated/bindings.ts: change the Rust type, then regenerate with
//   CLOUDOPS_UPDATE_BINDINGS=1 cargo test -p app-tauri --lib bindings
// (that test fails while the generated file is stale). Add here only types the UI alone has.

export type * from './generated/bindings';
