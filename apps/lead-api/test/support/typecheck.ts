import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Type-checks `files` with the service's own compiler options (plus `extraLib`), as a third
 * party's project would, and returns each problem as `dir/file:line message`.
 */
export function typeCheck(files: string[], extraLib: string[] = []): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    fileURLToPath(new URL('../../tsconfig.json', import.meta.url)),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const lib = extraLib.length ? [...(config.options.lib ?? ['lib.es2022.d.ts']), ...extraLib] : config.options.lib;
  const program = ts.createProgram(files, { ...config.options, ...(lib ? { lib } : {}), noEmit: true });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${d.file.fileName.split('/').slice(-2).join('/')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
