//! Keeping the GL stack out of the app's own process on X11.
//!
//! The app's process only shows what the webview's web process painted; it draws nothing
//! with GL itself. Yet on Linux two libraries open GL in it by default: GTK probes GLX for
//! its visuals when it opens the display, and WebKitGTK opens an EGL display it does not
//! need once the web process paints without GPU compositing. Without a GPU both land in
//! Mesa's software driver, which maps `swrast_dri.so` and `libLLVM`: resident memory for
//! nothing, about 55 MiB here (docs/benchmarks.md).
//!
//! [`keep_gl_out_of_this_process`], called first thing in `main`:
//! - asks the web process to paint without GPU compositing
//!   (`WEBKIT_DISABLE_COMPOSITING_MODE`), so nothing needs GL to hand frames over;
//! - tells GTK not to use GL (`GDK_GL=disable`);
//! - makes libglvnd, the EGL dispatcher, load its list of vendor drivers now, while
//!   `__EGL_VENDOR_LIBRARY_FILENAMES` names none. libglvnd loads that list once per process,
//!   so this process's EGL stays without a driver (WebKitGTK then does without the EGL
//!   display), and the variable is removed again before any child starts: the web process,
//!   which paints, gets the system's drivers as usual.
//!
//! Only on X11 (a `DISPLAY` and no `WAYLAND_DISPLAY`), only for variables the user has not
//! set, and not at all with `CLOUDOPS_RENDERING=default` — the escape hatch should a
//! system need GL in this process after all.

/// See the module documentation. Must run before any other thread exists: it changes the
/// process environment.
pub fn keep_gl_out_of_this_process() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    linux::keep_gl_out_of_this_process();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod linux {
    use std::ffi::{c_char, c_void};

    /// libglvnd reads this once, when it first loads its EGL vendor drivers.
    const EGL_VENDORS: &str = "__EGL_VENDOR_LIBRARY_FILENAMES";
    /// Names no vendor description file.
    const NO_VENDORS: &str = "/nonexistent/cloudops-no-egl-vendor.json";

    pub(super) fn keep_gl_out_of_this_process() {
        if std::env::var("CLOUDOPS_RENDERING").is_ok_and(|value| value == "default")
            || !is_set("DISPLAY")
            || is_set("WAYLAND_DISPLAY")
        {
            return;
        }
        set_default("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
        set_default("GDK_GL", "disable");
        if !is_set(EGL_VENDORS) {
            set_var(EGL_VENDORS, NO_VENDORS);
            load_egl_vendors();
            remove_var(EGL_VENDORS);
        }
    }

    fn is_set(name: &str) -> bool {
        std::env::var_os(name).is_some()
    }

    fn set_default(name: &str, value: &str) {
        if !is_set(name) {
            set_var(name, value);
        }
    }

    #[allow(unsafe_code)]
    fn set_var(name: &str, value: &str) {
        // SAFETY: called from `main` before the app starts any thread (the caller's
        // contract), so nothing reads the environment concurrently.
        unsafe { std::env::set_var(name, value) }
    }

    #[allow(unsafe_code)]
    fn remove_var(name: &str) {
        // SAFETY: as for `set_var`.
        unsafe { std::env::remove_var(name) }
    }

    /// Makes libEGL load its vendor list by asking for the client extensions, which lists
    /// every vendor's. The webview links libEGL, so the `dlopen` finds the copy already
    /// loaded: the one WebKitGTK will use. Without libEGL nothing happens.
    #[allow(unsafe_code)]
    fn load_egl_vendors() {
        const EGL_NO_DISPLAY: *mut c_void = std::ptr::null_mut();
        const EGL_EXTENSIONS: i32 = 0x3055;
        type QueryString = unsafe extern "C" fn(*mut c_void, i32) -> *const c_char;
        let library = c"libEGL.so.1";
        let symbol = c"eglQueryString";
        // SAFETY: `dlopen` and `dlsym` get NUL-terminated names and their results are
        // checked for null. The handle is deliberately never closed: the library stays
        // loaded for the webview anyway.
        unsafe {
            let handle = libc::dlopen(library.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL);
            if handle.is_null() {
                return;
            }
            let query = libc::dlsym(handle, symbol.as_ptr());
            if query.is_null() {
                return;
            }
            // SAFETY: `eglQueryString` has this signature (EGL 1.5, section 3.3); it
            // accepts EGL_NO_DISPLAY for EGL_EXTENSIONS and returns a static string or
            // null; only the call matters, not the answer.
            let query = std::mem::transmute::<*mut c_void, QueryString>(query);
            query(EGL_NO_DISPLAY, EGL_EXTENSIONS);
        }
    }
}
