/** The help text of `--json`, which every command takes (test/integration/cli-json.test.ts checks it). */
export const JSON_HELP = 'print the result as JSON (errors too, on stderr)';
