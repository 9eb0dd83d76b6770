// vitest globalSetup: one throwaway PostgreSQL + TimescaleDB cluster for the whole test run.
//
// Tests read its URL with `inject('serverUrl')` (postgres://postgres@127.0.0.1:<port>/tickvault_test)
// and should create their own database with createTestDatabase() from ./server-cluster.js.
// Set TICKVAULT_TEST_SERVER_URL to use an existing server instead of starting one.
//
// The cluster is stopped and its temp directory removed by the teardown below; if the run is
// interrupted (SIGINT/SIGTERM/SIGHUP/exit) server-cluster.ts's exit hooks do it, and its watchdog
// covers a SIGKILLed vitest.

import type { TestProject } from 'vitest/node';
import { startServerCluster, type ServerCluster } from './server-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the test server's `tickvault_test` database (superuser `postgres`, trust auth). */
    serverUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.TICKVAULT_TEST_SERVER_URL;
  if (external) {
    project.provide('serverUrl', external);
    return undefined;
  }

  const cluster: ServerCluster = await startServerCluster();
  if (process.env.TICKVAULT_TEST_VERBOSE) {
    console.error(`[tickvault] test cluster ${cluster.url} ready in ${cluster.startupMs} ms (${cluster.dir})`);
  }
  project.provide('serverUrl', cluster.url);

  return async () => {
    await cluster.stop();
  };
}
