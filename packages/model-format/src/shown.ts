/**
 * A value from an uploaded model.json as it may appear in an error message. `String(value)` is not safe on
 * hostile JSON: `{"toString": null}` parses to an object that cannot be converted (a TypeError instead of
 * our error). Strings are shown as they are, anything else as JSON; both cut to 200 characters.
 */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? typeof value);
  } catch {
    text = typeof value;
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
