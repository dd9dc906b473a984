/**
 * The README's "Examples" section, read as the tests run it: each program
 * (a ```js or ```mjs block whose first line is `// node FILE ARGS…`) with the
 * output the README promises for it (the ```text block after it), and each
 * shell command (```sh blocks).
 */

export interface ReadmeProgram {
  /** The file name the program's first line runs, e.g. `echo.cjs`. */
  file: string;
  /** The arguments the README passes, as written there. */
  args: string[];
  source: string;
  /** What the README says it prints, or undefined if no output follows. */
  output: string | undefined;
}

export interface ReadmeExamples {
  programs: ReadmeProgram[];
  commands: string[];
}

const FENCE = /^```(\w*)\n([\s\S]*?)^```$/gm;

export function readmeExamples(readme: string): ReadmeExamples {
  const start = readme.indexOf('\n## Examples\n');
  if (start < 0) throw new Error('the README has no "## Examples" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);

  const programs: ReadmeProgram[] = [];
  const commands: string[] = [];
  for (const [, language, body] of section.matchAll(FENCE)) {
    const text = body ?? '';
    if (language === 'js' || language === 'mjs') {
      const run = /^\/\/ node (\S+)((?: \S+)*)\n/.exec(text);
      if (!run) throw new Error(`a README example does not start with "// node FILE ARGS": ${text.split('\n')[0]}`);
      programs.push({ file: run[1]!, args: run[2]!.trim().split(' ').filter(Boolean), source: text, output: undefined });
    } else if (language === 'text') {
      const program = programs.at(-1);
      if (!program || program.output !== undefined) throw new Error('README output block with no example before it');
      program.output = text;
    } else if (language === 'sh') {
      commands.push(...text.split('\n').filter(Boolean));
    }
  }
  return { programs, commands };
}
