/**
 * zod for the platform is the tree-shakable `zod/mini` build: the classic `zod`
 * entry adds ~450 KB to a bundle, this ~20 KB, which keeps the predict function's
 * cold start small (GUIDE §4). Importing this module sets English error messages
 * (zod/mini ships none by default); `config.ts` and `http/request.ts` import it.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
