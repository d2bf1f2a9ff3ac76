// FormFields: the object urlencoded and multipart bodies become. It has no prototype (as Node's
// querystring.parse), so a field named `__proto__` or `constructor` is just a field; a name sent
// once is a string, a name sent again turns into an array of every value in order.

/** Field name → value, or every value in order when the name repeats. */
export type FormFields = Record<string, string | string[]>;

/** An empty FormFields (no prototype). */
export function createFields(): FormFields {
  return Object.create(null) as FormFields;
}

/** Add one value under `name`, turning a repeated name into an array. */
export function addField(fields: FormFields, name: string, value: string): void {
  const existing = fields[name];
  if (existing === undefined) fields[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else fields[name] = [existing, value];
}
