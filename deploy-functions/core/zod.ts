import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini ships no messages; these are the English ones full zod gives.
config(en());

/**
 * The schema builder of the deployment functions (and of the synth-time checks that reuse their schemas): zod/mini,
 * the tree-shakable build of zod 4, listed by name so a bundle keeps only what the schemas use (import it as `* as z`).
 */
export { _default, array, boolean, enum, gt, gte, int, iso, literal, lt, lte, maxLength, minLength, number, object, optional, refine, regex, strictObject, string, superRefine, union, unknown } from 'zod/mini';
export type { infer, input, output, ZodMiniType } from 'zod/mini';
