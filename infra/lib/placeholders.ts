/**
 * Placeholders the release configuration may write in ARNs and condition values: `${Partition}`, `${Region}`,
 * `${Account}` (the stack's), and `${Stage}`, which makes one value per stage.
 */
export interface PlaceholderValues {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** The value with the environment's placeholders filled in (`${Stage}` is left for `perStage`). */
export function substitute(text: string, env: PlaceholderValues): string {
  return text.replaceAll('${Partition}', env.partition).replaceAll('${Region}', env.region).replaceAll('${Account}', env.account);
}

/** One value per stage when the text names `${Stage}`, else the text itself; environment placeholders filled in. */
export function perStage(text: string, stages: readonly string[], env: PlaceholderValues): string[] {
  const filled = substitute(text, env);
  return filled.includes('${Stage}') ? stages.map((stage) => filled.replaceAll('${Stage}', stage)) : [filled];
}
