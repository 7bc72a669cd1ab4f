import { readFileSync } from 'node:fs';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The first ```lang block under the README heading `## <heading>`, exactly as written there. */
export function readmeSnippet(heading: string, lang: 'ts' | 'html'): string {
  const section = README.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  if (!section) throw new Error(`README has no section "## ${heading}"`);
  const block = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\``, 'm').exec(section);
  if (!block) throw new Error(`README section "${heading}" has no ${lang} block`);
  return block[1]!;
}

/** The service URL every README snippet uses. */
export const README_SERVICE_URL = 'https://leads.example.com';
