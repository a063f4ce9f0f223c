/**
 * `nx run <project>:typecheck`: type-check one project's own files (its tsconfig.json: src and test). Files of
 * other packages it imports are read for their types only, not checked again: each package checks its own,
 * so a change to one lib re-checks it and what depends on it (nx's cache skips the rest).
 */
import path from 'node:path';
import ts from 'typescript';

const projectRoot = path.resolve(process.argv[2] ?? '.');
const configPath = path.join(projectRoot, 'tsconfig.json');
const host: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => process.cwd(),
  getNewLine: () => '\n',
};
const parsed = ts.getParsedCommandLineOfConfigFile(
  configPath,
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      process.stderr.write(ts.formatDiagnostic(d, host));
      process.exit(2);
    },
  },
);
if (!parsed) process.exit(2);
const program = ts.createProgram(parsed.fileNames, parsed.options);
const own = program.getSourceFiles().filter((f) => f.fileName.startsWith(`${projectRoot}/`));
const diagnostics = [
  ...parsed.errors,
  ...program.getOptionsDiagnostics(),
  ...program.getGlobalDiagnostics(),
  ...own.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
];
if (diagnostics.length > 0) {
  const format = process.stderr.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics;
  process.stderr.write(format(diagnostics, host));
  process.stderr.write(
    `\n${diagnostics.length} type error(s) in ${path.relative(process.cwd(), projectRoot) || '.'}\n`,
  );
  process.exit(1);
}
process.stdout.write(`${own.length} files checked\n`);
