import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { documents, procedures, TRPC_PREFIX } from '@lead/contracts';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** The shape of the house: checked on the source itself, so that it cannot drift unnoticed. */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCES = ['apps/lead-api/src', 'packages/db/src', 'packages/contracts/src', 'packages/sdk/src'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}
const all = SOURCES.flatMap((s) => files(join(ROOT, s)));

/** Relative imports of a file, type-only ones included: a circle of types is still a circle. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')));
}

describe('the import graph', () => {
  it('has no circles', () => {
    const graph = new Map(all.map((f) => [f, importsOf(f)]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => relative(ROOT, f)).join(' → '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('points one way: db never imports contracts, contracts nothing of ours, the sdk only contracts', () => {
    const packageImports = (dir: string) =>
      files(join(ROOT, dir)).flatMap((f) =>
        ts
          .preProcessFile(readFileSync(f, 'utf8'), true, true)
          .importedFiles.map((i) => i.fileName)
          .filter((n) => n.startsWith('@lead/')),
      );
    expect(packageImports('packages/db/src')).toEqual([]);
    expect(packageImports('packages/contracts/src')).toEqual([]);
    expect(packageImports('packages/sdk/src').filter((name) => name !== '@lead/contracts' && !name.startsWith('@lead/contracts/'))).toEqual(
      [],
    );
  });
});

describe('a route or procedure named as a string outside packages/contracts', () => {
  // Every route the contracts define, by its literal prefix, and every procedure's tRPC path.
  const routes = [
    ...procedures.map((p) => p.contract.meta.openapi.path.split('/{')[0]!),
    ...Object.values(documents).map((d) => d.path),
    TRPC_PREFIX,
  ];
  const names = procedures.map((p) => p.path);
  // Quoted, or right after a template's interpolation (`${base}/trpc`).
  const literal = new RegExp(
    `(?<=['"\`}])(${[...routes, ...names].map((r) => r.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})(?=[/'"\`?])`,
  );

  it.each(all.filter((f) => !f.includes('packages/contracts/')).map((f) => relative(ROOT, f)))('%s names none', (file) => {
    const found = readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .map((line, i) => [i + 1, line] as const)
      // Comments may speak of routes; only code decides anything.
      .filter(([, line]) => !/^\s*(\/\/|\*|\/\*)/.test(line) && literal.test(line));
    expect(found.map(([n, line]) => `${n}: ${line.trim()}`)).toEqual([]);
  });
});
