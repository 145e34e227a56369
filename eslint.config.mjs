// Flat ESLint config: typescript-eslint's recommended rules, plus the import boundaries (README,
// Development): the engine and the CLI never import 'vscode' (they run in plain Node: the CLI and
// the engine's child process), and the webview imports engine code for its types only (it runs in
// a browser frame; the engine runs in Node).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'out/**', 'node_modules/**', '.cache/**', 'models/**', 'test-results/**', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/engine/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: "src/engine and src/cli run in plain Node: no 'vscode' here." }],
          patterns: [
            { group: ['../vscode/*', '../../vscode/*', '**/src/vscode/**'], message: 'the engine and the CLI must not depend on the extension (src/vscode).' },
            { group: ['**/host/**'], message: 'the engine must not depend on the host process code (src/host).' },
          ],
        },
      ],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: "the webview runs in a browser frame: no 'vscode' module (use acquireVsCodeApi)." }],
          patterns: [
            {
              group: ['**/src/engine/**', '**/src/engine', 'onnxruntime-node'],
              allowTypeImports: true,
              message: 'the webview may import engine types only (import type ...), never engine code: it runs in a browser frame.',
            },
          ],
        },
      ],
    },
  },
);
