import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

/**
 * tRPC's build copies objects with a transpiler helper (`_objectSpread2`); the service patches it
 * (patches/@trpc__server@11.25.2.patch, pnpm-workspace.yaml) to copy with Object.assign. These
 * tests hold every copy of the helper in the installed package to being the patched one and to
 * copying exactly as an object spread does, so an upgrade that drops the patch, or a patch that
 * copies differently, fails here.
 */
const dist = dirname(createRequire(import.meta.url).resolve('@trpc/server'));
const builds = readdirSync(dist)
  .filter((file) => /\.(mjs|cjs)$/.test(file))
  .map((file) => ({ file, text: readFileSync(join(dist, file), 'utf8') }))
  .filter(({ text }) => text.includes('function _objectSpread2('));

type Spread = (target: object, ...sources: unknown[]) => Record<PropertyKey, unknown>;

/** The helper and the helpers it calls, as the file states them (they come one after another, `_typeof` first). */
function helperOf(text: string): Spread {
  const from = text.lastIndexOf('function _typeof(', text.indexOf('function _objectSpread2('));
  const end = text.indexOf('\n}\n', text.indexOf('function _objectSpread2(')) + 3;
  return runInThisContext(`(() => {\n${text.slice(from, end)}\nreturn _objectSpread2;\n})()`) as Spread;
}

describe('the patched tRPC object copy', () => {
  it('is in every build of the installed package that has the helper', () => {
    expect(builds.map((b) => b.file.slice(-3)).sort()).toEqual(['cjs', 'mjs']);
    for (const { text } of builds) expect(text).toContain('Patched by the lead service');
  });

  for (const { file, text } of builds) {
    describe(file, () => {
      const spread = helperOf(text);
      const symbol = Symbol('key');
      const hidden = Symbol('hidden');

      it('copies as an object spread does: own enumerable keys and symbols, later sources winning, getters read once', () => {
        let reads = 0;
        const source = Object.defineProperties(
          { a: 1, b: 2, [symbol]: 's' },
          {
            read: { enumerable: true, get: () => ++reads },
            secret: { enumerable: false, value: 'x' },
            [hidden]: { enumerable: false, value: 'y' },
          },
        );
        const inherited = Object.create({ fromPrototype: true }, { own: { enumerable: true, value: 'own' } });
        const expected = { ...source, ...{ b: 3, c: 4 }, ...inherited };
        reads = 0;
        const copy = spread(spread({}, source), {}, { b: 3, c: 4 }, null, undefined, inherited);
        expect(copy).toEqual(expected);
        expect(copy[symbol]).toBe('s');
        expect(Object.getOwnPropertySymbols(copy)).toEqual([symbol]);
        expect(Object.keys(copy)).toEqual(['a', 'b', 'read', 'c', 'own']);
        expect(reads).toBe(1);
        expect(Object.getOwnPropertyDescriptor(copy, 'read')).toMatchObject({ value: 1, writable: true, enumerable: true });
        expect(spread({}, 'ab')).toEqual({ 0: 'a', 1: 'b' });
      });

      it('copies an own "__proto__" key (as JSON.parse makes it) as a key, never as the prototype', () => {
        const parsed = JSON.parse('{"a": 1, "__proto__": {"polluted": true}}') as object;
        const copy = spread({}, parsed);
        expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
        expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
        expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ polluted: true });
        expect(copy.a).toBe(1);
      });
    });
  }
});
