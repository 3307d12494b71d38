// The k6 scripts cannot run here (no k6 binary), so this proves what can be proved without one: they
// type-check against @types/k6 alone (no Node types), a script using an API k6 lacks fails that check,
// they load nothing at run time but k6 modules and their own files, and every threshold names a metric
// they report. Their pure parts (display, idempotency book, config, tokens) are tested in lib/.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const probeDir = join(here, `.probe-${process.pid}`);

/**
 * The files every check here reads (TypeScript's lib, @types/k6, the scripts), parsed once and shared
 * by the programs below, as an editor's language service shares them. Each check is still a program of
 * its own, type-checked from scratch: the same diagnostics as `tsc -p` in a process of its own, without
 * starting TypeScript and parsing its lib 7 times (18.9 s for this file in CI, session 20).
 */
const parsedFiles = new Map<string, ts.SourceFile | undefined>();

/** Type-checks a project as `tsc -p` does (it emits nothing: noEmit); its exit status and output. */
function tsc(project: string): { status: number; output: string } {
  const parsed = ts.getParsedCommandLineOfConfigFile(project, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (parsed === undefined) throw new Error(`no project at ${project}`);
  const host = ts.createCompilerHost(parsed.options);
  const readSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    // A probe is written anew for each check: read, never shared.
    if (fileName.startsWith(probeDir))
      return readSourceFile(fileName, languageVersion, onError, shouldCreate);
    const key = `${fileName}\0${JSON.stringify(languageVersion)}`;
    if (!parsedFiles.has(key))
      parsedFiles.set(key, readSourceFile(fileName, languageVersion, onError, shouldCreate));
    return parsedFiles.get(key);
  };
  const program = ts.createProgram({
    rootNames: parsed.fileNames,
    options: parsed.options,
    host,
    configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(parsed),
  });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const output = ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (fileName) => fileName,
    getCurrentDirectory: () => ts.sys.getCurrentDirectory(),
    getNewLine: () => '\n',
  });
  return { status: diagnostics.length === 0 ? 0 : 2, output };
}

/** Type-checks `source` as one more k6 script, with the scripts' own compiler options. */
function checkProbe(name: string, source: string): { status: number; output: string } {
  mkdirSync(probeDir, { recursive: true });
  writeFileSync(join(probeDir, `${name}.ts`), source);
  const config = join(probeDir, `${name}.tsconfig.json`);
  writeFileSync(
    config,
    JSON.stringify({ extends: '../tsconfig.json', include: [`${name}.ts`], exclude: [] }),
  );
  return tsc(config);
}

function scriptFiles(): string[] {
  const top = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const lib = readdirSync(join(here, 'lib')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  return [...top.map((f) => join(here, f)), ...lib.map((f) => join(here, 'lib', f))];
}

afterAll(() => rmSync(probeDir, { recursive: true, force: true }));

describe('k6 scripts', () => {
  it('type-check against @types/k6 with no Node types', () => {
    const result = tsc(join(here, 'tsconfig.json'));
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('a probe using real k6 APIs passes the same check (so the failures below are about the API)', () => {
    const result = checkProbe(
      'valid',
      `import { WebSocket } from 'k6/websockets';
import { Trend } from 'k6/metrics';
const latency = new Trend('probe_latency', true);
export default function (): void {
  const ws = new WebSocket('ws://127.0.0.1:1/v1/ws');
  ws.onopen = () => ws.send('{}');
  latency.add(1);
}
`,
    );
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it.each([
    [
      'a method k6 WebSockets lack',
      `import { WebSocket } from 'k6/websockets';\nnew WebSocket('ws://x').sendStream('x');\n`,
      /sendStream/,
    ],
    ['a k6 module that does not exist', `import { nope } from 'k6/chat';\nnope();\n`, /k6\/chat/],
    ['a Node module', `import { readFileSync } from 'node:fs';\nreadFileSync('x');\n`, /node:fs/],
    ['a Node global', `export default function (): void { process.exit(1); }\n`, /process/],
    ['a metric type k6 lacks', `import { Histogram } from 'k6/metrics';\nnew Histogram('x');\n`, /Histogram/],
  ])('fail the check when they use %s', (_name, source, mention) => {
    const result = checkProbe(`bad-${Math.abs(hash(source))}`, source);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(mention);
  });

  it('load nothing at run time but k6 modules and their own files (other project files only as types)', () => {
    const files = scriptFiles();
    expect(files.map((f) => relative(here, f))).toEqual(
      expect.arrayContaining(['chat-load.ts', 'chat-smoke.ts', join('lib', 'chat-session.ts')]),
    );
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/^import (type )?[^'"]*from '([^']+)';$/gm)) {
        const [, typeOnly, specifier] = match as unknown as [string, string | undefined, string];
        if (specifier === 'k6' || specifier.startsWith('k6/')) continue;
        expect(specifier, `${relative(here, file)} imports ${specifier}`).toMatch(/^\.\.?\//);
        const target = resolve(dirname(file), specifier);
        const insideK6 = !relative(here, target).startsWith('..');
        if (!insideK6)
          expect(typeOnly, `${relative(here, file)}: ${specifier} must be a type-only import`).toBe('type ');
      }
    }
  });

  it('name in every threshold a metric the scripts report', () => {
    const runtime = readFileSync(join(here, 'lib', 'k6-runtime.ts'), 'utf8');
    const reported = new Set(
      [...runtime.matchAll(/new (?:Trend|Rate|Counter|Gauge)\('([a-z_]+)'/g)].map((m) => m[1]),
    );
    reported.add('checks');
    expect(reported.has('ack_latency')).toBe(true);
    for (const script of ['chat-load.ts', 'chat-smoke.ts']) {
      const text = readFileSync(join(here, script), 'utf8');
      const block = /thresholds: \{([\s\S]*?)\n {2}\},/.exec(text)?.[1] ?? '';
      const names = [...block.matchAll(/^\s+([a-z_]+):/gm)].map((m) => m[1]);
      expect(names.length, script).toBeGreaterThan(3);
      for (const name of names) expect(reported, `${script} threshold ${name}`).toContain(name);
    }
  });
});

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}
