/**
 * Characters no text input may hold: C0 control characters other than tab, line feed and carriage return, DEL,
 * and unpaired UTF-16 surrogates. Postgres refuses NUL in text and lone surrogates in jsonb (a 500 before this
 * check), and the others are never wanted in CRM data (terminal escapes, form feeds in a name).
 */
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first forbidden character of `text` as `U+XXXX`, or null when the text is acceptable. */
export function forbiddenCharacter(text: string): string | null {
  const match = FORBIDDEN.exec(text);
  return match ? `U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : null;
}

export const FORBIDDEN_CHARACTERS_RULE = 'control characters (other than tab, line feed and carriage return) or unpaired surrogates';
