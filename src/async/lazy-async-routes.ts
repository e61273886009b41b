/**
 * The async routes as the predict function mounts them: its module (SQS client, presigner) is
 * loaded on the first request that needs it, so the synchronous cold path does not carry it.
 */
import type { RouteTable } from '../http/router.js';
import type { AsyncApi } from './async-routes.js';

/** Async submission and routes over a loader run once, at the first async request. */
export function lazyAsyncApi(load: () => Promise<AsyncApi>): AsyncApi {
  let api: Promise<AsyncApi> | undefined;
  const loaded = () => (api ??= load());
  const routes: RouteTable = {
    'POST /v2/async/uploads': async (event) => (await loaded()).routes['POST /v2/async/uploads']!(event),
    'GET /v2/async/{id}': async (event) => (await loaded()).routes['GET /v2/async/{id}']!(event),
  };
  return { submit: async (event, target, checkInline) => (await loaded()).submit(event, target, checkInline), routes };
}
