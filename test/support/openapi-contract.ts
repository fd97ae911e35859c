/**
 * The served OpenAPI document as a contract for real responses: `contractProblems(doc, exchange)` says
 * how a response breaks the document (a status the operation does not document, a body its schema does
 * not accept, a field it does not declare). Schemas are checked with Ajv (JSON Schema 2020-12, the dialect
 * of OpenAPI 3.1). Routes the document does not describe (hidden ones, the dashboard's files, unknown
 * paths) are not its business.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

// biome-ignore lint/suspicious/noExplicitAny: the document is read as plain JSON
type Json = any;

export interface ContractExchange {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  text: string;
}

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  literalSegments: number;
  responses: Record<string, Json>;
}

interface Contract {
  operations: Operation[];
  validators: Map<Json, ValidateFunction>;
  ajv: Ajv2020;
}

const contracts = new Map<string, Contract>();

function contractOf(doc: Json): Contract {
  const key = JSON.stringify(doc.paths);
  const known = contracts.get(key);
  if (known) return known;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const operations = Object.entries<Json>(doc.paths).flatMap(([template, item]) =>
    Object.entries<Json>(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      template,
      pattern: new RegExp(`^${template.replace(/\{[^/}]+\}/g, "[^/]+")}$`),
      literalSegments: template.split("/").filter((s) => s && !s.startsWith("{")).length,
      responses: op.responses ?? {},
    })),
  );
  // A literal path wins over a template that also matches it (`/secrets/import` before `/secrets/{id}`).
  operations.sort((a, b) => b.literalSegments - a.literalSegments);
  const contract = { operations, validators: new Map(), ajv };
  contracts.set(key, contract);
  return contract;
}

/** The documented operation a request reached, if the document describes it. */
export function operationFor(doc: Json, method: string, path: string): string | undefined {
  const op = findOperation(contractOf(doc), method, path);
  return op && `${op.method} ${op.template}`;
}

function findOperation(contract: Contract, method: string, path: string): Operation | undefined {
  const pathname = new URL(path, "http://localhost").pathname;
  return contract.operations.find((op) => op.method === method.toUpperCase() && op.pattern.test(pathname));
}

/** Each way the response breaks the document; none when it keeps it or the route is not documented. */
export function contractProblems(doc: Json, exchange: ContractExchange): string[] {
  const contract = contractOf(doc);
  const op = findOperation(contract, exchange.method, exchange.path);
  if (!op) return [];
  const where = `${op.method} ${op.template} → ${exchange.status}`;
  const response = op.responses[String(exchange.status)];
  if (!response) return [`${where}: status not documented (documented: ${Object.keys(op.responses)})`];
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) return exchange.text === "" ? [] : [`${where}: documented without a body, but sent one`];
  if (!/^application\/json\b/.test(exchange.headers["content-type"] ?? ""))
    return [`${where}: content-type ${exchange.headers["content-type"]}, documented application/json`];
  let body: unknown;
  try {
    body = JSON.parse(exchange.text);
  } catch {
    return [`${where}: the body is not JSON`];
  }
  let validate = contract.validators.get(schema);
  if (!validate) {
    validate = contract.ajv.compile(schema);
    contract.validators.set(schema, validate);
  }
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (e) => `${where}: ${e.instancePath || "body"} ${e.message}${paramsText(e.params)}`,
  );
}

function paramsText(params: Record<string, unknown>): string {
  const extra = params.additionalProperty;
  return typeof extra === "string" ? ` (${extra})` : "";
}
