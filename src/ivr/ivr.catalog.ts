import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Prompts and menus of the inbound IVR, loaded from `IVR_DIR` (default `ivr/`) and checked once at
 * start-up: `menus.json` lists the break reasons (digit = position, 1-9; optional `maxMinutes` for
 * break timers), and one `<lang>.json` per language holds every prompt, a spoken label for every
 * reason, a voice per dialect and the words a caller may say at the menus. Anything missing or malformed throws one line naming the file and the field, so
 * the service refuses to start instead of failing in the middle of a call.
 */

export const PROMPT_PLACEHOLDERS = {
  hello: ['name'],
  nowOnBreak: [],
  nowOnBreakReason: ['reason'],
  nowAvailable: [],
  isOnBreak: [],
  isOnBreakReason: ['reason'],
  isAvailable: [],
  menu: [],
  reasonMenu: [],
  reasonOption: ['reason', 'digit'],
  invalidChoice: [],
  noInput: [],
  goodbye: [],
  notRegistered: [],
  rateLimited: [],
} as const;

export type PromptName = keyof typeof PROMPT_PLACEHOLDERS;

const REASON_ID = /^[A-Za-z0-9_-]{1,64}$/;
const LANGUAGE_FILE = /^([a-z]{2,3}(?:-[A-Z]{2})?)\.json$/;

const voice = z.object({ language: z.string().min(2).max(16), voice: z.string().min(1).max(64).optional() }).strict();

const promptText = (name: PromptName) =>
  z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .superRefine((text, ctx) => {
      const allowed: readonly string[] = PROMPT_PLACEHOLDERS[name];
      for (const m of text.matchAll(/\{([^}]*)\}/g)) {
        if (!allowed.includes(m[1]!)) ctx.addIssue({ code: 'custom', message: `unknown placeholder {${m[1]}}` });
      }
      for (const p of allowed) if (!text.includes(`{${p}}`)) ctx.addIssue({ code: 'custom', message: `must contain {${p}}` });
    });

const promptsSchema = z
  .object(Object.fromEntries(Object.keys(PROMPT_PLACEHOLDERS).map((k) => [k, promptText(k as PromptName)])) as Record<PromptName, ReturnType<typeof promptText>>)
  .strict();

const spokenWords = z.array(z.string().trim().min(1).max(100)).min(1).max(20);

const languageSchema = z
  .object({
    name: z.string().min(1).max(64),
    /** One voice per dialect voice key (dialect.*.ts `voice`): twiml, plivo, optionally texml. */
    voice: z.object({ twiml: voice, plivo: voice, texml: voice.optional() }).strict(),
    prompts: promptsSchema,
    reasons: z.record(z.string(), z.string().trim().min(1).max(200)),
    /** Words a caller may say instead of pressing a digit (docs/http.md §10). */
    speech: z
      .object({ break: spokenWords, available: spokenWords, repeat: spokenWords, reasons: z.record(z.string(), spokenWords) })
      .strict(),
  })
  .strict();

const menusSchema = z
  .object({
    reasons: z
      .array(
        z
          .object({
            id: z.string().regex(REASON_ID, 'must be 1-64 characters of [A-Za-z0-9_-]'),
            maxMinutes: z.number().int().min(1).max(24 * 60).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(9, 'at most 9 reasons (one digit each)')
      .refine((rs) => new Set(rs.map((r) => r.id)).size === rs.length, 'reason ids must be unique'),
  })
  .strict();

export type LanguagePack = z.output<typeof languageSchema>;

export interface ReasonDefinition {
  id: string;
  /** The digit that picks it in the reason menu. */
  digit: string;
  maxMinutes?: number;
}

export interface IvrCatalog {
  languages: readonly string[];
  reasons: readonly ReasonDefinition[];
  pack(language: string): LanguagePack;
  has(language: string): boolean;
}

export class IvrDataError extends Error {}

function readJson(file: string, label: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new IvrDataError(`IVR data: cannot read ${label}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new IvrDataError(`IVR data: ${label} is not valid JSON`);
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, label: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  throw new IvrDataError(`IVR data: ${label} ${path}: ${issue.message}`);
}

export function loadIvrCatalog(dir: string, defaultLanguage: string): IvrCatalog {
  const root = resolve(dir);
  let files: string[];
  try {
    files = readdirSync(root);
  } catch {
    throw new IvrDataError(`IVR data: IVR_DIR=${dir} is not a readable folder`);
  }
  const menus = check(menusSchema, readJson(join(root, 'menus.json'), 'menus.json'), 'menus.json');
  const packs = new Map<string, LanguagePack>();
  for (const file of files.sort()) {
    const m = LANGUAGE_FILE.exec(file);
    if (!m || file === 'menus.json') continue;
    const pack = check(languageSchema, readJson(join(root, file), file), file);
    for (const r of menus.reasons) {
      if (pack.reasons[r.id] === undefined) throw new IvrDataError(`IVR data: ${file} reasons.${r.id}: missing spoken label`);
    }
    for (const id of Object.keys(pack.reasons)) {
      if (!menus.reasons.some((r) => r.id === id)) throw new IvrDataError(`IVR data: ${file} reasons.${id}: not a reason in menus.json`);
    }
    for (const r of menus.reasons) {
      if (pack.speech.reasons[r.id] === undefined) throw new IvrDataError(`IVR data: ${file} speech.reasons.${r.id}: missing spoken words`);
    }
    for (const id of Object.keys(pack.speech.reasons)) {
      if (!menus.reasons.some((r) => r.id === id)) throw new IvrDataError(`IVR data: ${file} speech.reasons.${id}: not a reason in menus.json`);
    }
    packs.set(m[1]!, pack);
  }
  if (packs.size === 0) throw new IvrDataError(`IVR data: no language files (en.json, hi.json, …) in IVR_DIR=${dir}`);
  if (!packs.has(defaultLanguage)) {
    throw new IvrDataError(`IVR data: IVR_LANGUAGE=${defaultLanguage} has no ${defaultLanguage}.json in IVR_DIR=${dir}`);
  }
  const reasons = menus.reasons.map((r, i) => ({ ...r, digit: String(i + 1) }));
  return {
    languages: [...packs.keys()],
    reasons,
    has: (language) => packs.has(language),
    pack(language) {
      return packs.get(language) ?? packs.get(defaultLanguage)!;
    },
  };
}
