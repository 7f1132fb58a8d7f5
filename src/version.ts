import { readFileSync } from 'node:fs';

/** Version from package.json (the package root is two levels above src/ or dist/). */
export const TOOL_VERSION: string = (JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string }).version;
