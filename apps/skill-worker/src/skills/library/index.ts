// The skill library: real code skills for dev, data, text and ops, ready for the worker to register.
import type { CodeSkill } from '../skill.js';
import { dataDiff, csvParse, jsonQuery, jsonschemaValidate, jsonTransform, templateRender, yamlParse, yamlStringify } from './data.js';
import { commandRun, lintRun, testsParse, testsRun } from './dev-command.js';
import { errorlogAnalyse } from './errorlog.js';
import { gitBranch, gitClone, gitCommit, gitDiff, gitInit, gitLog, gitStatus } from './git.js';
import { healthcheck, httpRequest, webhookNotify } from './http.js';
import { filesList, filesRead, filesWrite, wait } from './ops.js';
import { patchApply } from './patch.js';
import { lines, regexExtract, replace, slugifySkill, truncate, wordcount } from './text.js';

export { configureWorkspaceRoot } from './run-command.js';

export const librarySkills: readonly CodeSkill[] = [
  // dev
  commandRun,
  testsRun,
  testsParse,
  lintRun,
  gitStatus,
  gitDiff,
  gitCommit,
  gitBranch,
  gitInit,
  gitClone,
  gitLog,
  patchApply,
  errorlogAnalyse,
  // data
  httpRequest,
  jsonQuery,
  jsonTransform,
  yamlParse,
  yamlStringify,
  jsonschemaValidate,
  templateRender,
  dataDiff,
  csvParse,
  // text
  wordcount,
  regexExtract,
  truncate,
  slugifySkill,
  lines,
  replace,
  // ops
  healthcheck,
  wait,
  webhookNotify,
  filesRead,
  filesWrite,
  filesList,
] as CodeSkill[];
