/**
 * The served document is a valid OpenAPI 3.1 document, and a contract real responses keep. Every
 * response in the admin API's tests is checked against it by the harness (`@secrets/test/support/openapi-contract`);
 * the security table (`security.test.ts`) reaches every documented route with and without credentials,
 * so each route's successes and errors are checked. These tests show that the check catches what it
 * should.
 */
import SwaggerParser from "@apidevtools/swagger-parser";
import {
  type ContractExchange,
  contractProblems,
  operationFor,
} from "@secrets/test/support/openapi-contract";
import { describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: walking an arbitrary JSON document
type Json = any;

async function servedDocument(): Promise<Json> {
  return (await createHarness().call("GET", "/swagger/json")).json;
}

function mediaTypes(doc: Json): string[] {
  return Object.values<Json>(doc.paths).flatMap((item) =>
    Object.values<Json>(item).flatMap((op) => [
      ...Object.keys(op.requestBody?.content ?? {}),
      ...Object.values<Json>(op.responses).flatMap((r) => Object.keys(r.content ?? {})),
    ]),
  );
}

describe("the served OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document (@apidevtools/swagger-parser)", async () => {
    const doc = await servedDocument();
    expect(doc.openapi).toBe("3.1.0");
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
  });

  it("lists only application/json, the one type every route reads and answers", async () => {
    const types = mediaTypes(await servedDocument());
    expect(types.length).toBeGreaterThan(100);
    expect(new Set(types)).toEqual(new Set(["application/json"]));
  });

  it("states integers as integers and has no 3.0 keyword left", async () => {
    const text = JSON.stringify(await servedDocument());
    expect(text).not.toContain('"nullable"');
    expect(text).not.toContain('"format":"integer"');
  });
});

describe("the contract check", () => {
  async function realExchange(): Promise<{ doc: Json; exchange: ContractExchange; body: Json }> {
    const h = createHarness();
    h.vault.seedSecret({ name: "CONTRACT", hasValue: true, version: 3 });
    const exchange = await h.call("GET", "/secrets", { token: h.adminToken });
    expect(exchange.status).toBe(200);
    return { doc: await servedDocument(), exchange, body: exchange.json };
  }

  const withBody = (exchange: ContractExchange, body: Json) => ({ ...exchange, text: JSON.stringify(body) });

  it("accepts a real response and finds its operation", async () => {
    const { doc, exchange } = await realExchange();
    expect(operationFor(doc, "GET", "/secrets?limit=5")).toBe("GET /secrets");
    expect(operationFor(doc, "POST", "/secrets/abc/rollback")).toBe("POST /secrets/{id}/rollback");
    expect(contractProblems(doc, exchange)).toEqual([]);
  });

  it("refuses a field the document does not declare", async () => {
    const { doc, exchange, body } = await realExchange();
    body.secrets[0].value = "a value that must never be sent";
    expect(contractProblems(doc, withBody(exchange, body)).join("\n")).toMatch(
      /\/secrets\/0 must NOT have additional properties \(value\)/,
    );
  });

  it("refuses a missing or mistyped field", async () => {
    const { doc, exchange, body } = await realExchange();
    delete body.secrets[0].name;
    body.secrets[0].version = "3";
    const problems = contractProblems(doc, withBody(exchange, body)).join("\n");
    expect(problems).toMatch(/must have required property 'name'/);
    expect(problems).toMatch(/\/secrets\/0\/version must be integer/);
  });

  it("refuses a status the operation does not document, and a body where none is documented", async () => {
    const { doc, exchange } = await realExchange();
    expect(contractProblems(doc, { ...exchange, status: 418 })).toEqual([
      expect.stringMatching(/GET \/secrets → 418: status not documented/),
    ]);
    const deleted = { method: "DELETE", path: "/session", status: 204, headers: {}, text: "{}" };
    expect(contractProblems(doc, deleted)).toEqual([expect.stringMatching(/documented without a body/)]);
  });

  it("fails the harness call that receives a response breaking the document", async () => {
    const h = createHarness();
    // The response gains a field its schema lacks on its way out of the app.
    h.vault.seedSecret({ name: "BROKEN", hasValue: true, version: 1 });
    const original = h.app.handle.bind(h.app);
    h.app.handle = async (request: Request) => {
      const response = await original(request);
      if (!new URL(request.url).pathname.startsWith("/secrets")) return response;
      const body: Json = await response.json();
      body.secrets[0].extra = true;
      return Response.json(body, { status: response.status, headers: response.headers });
    };
    await expect(h.call("GET", "/secrets", { token: h.adminToken })).rejects.toThrow(
      /the response breaks the OpenAPI document[\s\S]*additional properties \(extra\)/,
    );
  });
});
