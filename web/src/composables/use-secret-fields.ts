/**
 * The checks on a secret's form fields: each field is checked against the API's rules (`validation.ts`,
 * their one home in the dashboard) once it has been left, and again as it is edited; a submit checks
 * them all. The API's own 422 `fields` land in the same `problems`, so both read alike next to a field.
 */
import { type Ref, reactive, watch } from "vue";
import { descriptionProblem, nameProblem, valueProblem } from "../validation.ts";

/** The fields in form order: the first with a problem is the one to focus. */
export const secretFields = ["name", "description", "value"] as const;
export type SecretField = (typeof secretFields)[number];

/** A message per field with a problem, and `form` for one that belongs to no field. */
export type SecretFieldProblems = Partial<Record<SecretField | "form", string>>;

export function useSecretFields(
  fields: Record<SecretField, Ref<string>>,
  /** A fixed name (edit, fill) exists already: it is not checked. */
  nameFixed: Ref<boolean>,
) {
  const problems = reactive<SecretFieldProblems>({});
  const touched = reactive<Record<SecretField, boolean>>({ name: false, description: false, value: false });

  const rules: Record<SecretField, () => string | undefined> = {
    name: () => (nameFixed.value ? undefined : nameProblem(fields.name.value)),
    description: () => descriptionProblem(fields.description.value),
    value: () => valueProblem(fields.value.value),
  };

  function check(field: SecretField) {
    const problem = rules[field]();
    if (problem) problems[field] = problem;
    else delete problems[field];
  }

  /** Leaving a field checks it, and from then on every change to it. */
  function blur(field: SecretField) {
    touched[field] = true;
    check(field);
  }
  for (const field of secretFields) watch(fields[field], () => touched[field] && check(field));

  /** Before a submit: every field checked; true when none has a problem. */
  function checkAll(): boolean {
    for (const field of secretFields) blur(field);
    return secretFields.every((field) => !problems[field]);
  }

  /** The first field (in form order) with a problem, if any. */
  function firstProblem(): SecretField | undefined {
    return secretFields.find((field) => problems[field]);
  }

  /** The API's 422 `fields`: a problem with one of ours goes next to it, any other to the whole form. */
  function addApiProblems(apiFields: readonly { field: string; message: string }[]) {
    for (const { field, message } of apiFields) {
      if (isSecretField(field)) problems[field] = `${capitalised(message)}.`;
      else problems.form = `${field} ${message}`;
    }
  }

  /** A fresh form: no problems, nothing left yet. */
  function clear() {
    for (const key of [...secretFields, "form"] as const) delete problems[key];
    for (const field of secretFields) touched[field] = false;
  }

  return { problems, blur, checkAll, firstProblem, addApiProblems, clear };
}

function isSecretField(field: string): field is SecretField {
  return (secretFields as readonly string[]).includes(field);
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
