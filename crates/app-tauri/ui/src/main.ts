import { mount } from 'svelte';
import { isTauri } from '@tauri-apps/api/core';
import './app.css';
import App from './App.svelte';
import { latencyLog } from './lib/search';

// Created on startup for the benchmark and the end-to-end tests.
latencyLog();

async function start(): Promise<void> {
  // `npm run dev` in a plain browser: a stand-in backend, so the UI can be looked at without
  // the app. Never part of the production build (import.meta.env.DEV is false there).
  if (import.meta.env.DEV && !isTauri()) {
    const { installMockBackend } = await import('./dev/mock-backend');
    installMockBackend();
  }
  const target = document.getElementById('app');
  if (target) mount(App, { target });
}

void start();
