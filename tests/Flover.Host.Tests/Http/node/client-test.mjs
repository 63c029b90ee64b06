// The official `openai` npm client against a running `flover serve`.
// Usage: FLOVER_BASE_URL=http://127.0.0.1:PORT/v1 FLOVER_MODEL=tiny node client-test.mjs
// Prints one line per check and "N passed, 0 failed"; exits non-zero on the first failure.
import assert from "node:assert/strict";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.FLOVER_BASE_URL, apiKey: "unused", maxRetries: 0, timeout: 60_000 });
const model = process.env.FLOVER_MODEL ?? "tiny";
let passed = 0;

async function check(name, body) {
  await body();
  passed++;
  console.log(`ok - ${name}`);
}

await check("models.list names the served model", async () => {
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  assert.deepEqual(models, [model]);
});

await check("completions.create returns text and usage", async () => {
  const c = await client.completions.create({ model, prompt: "Hello, my name is", max_tokens: 5, seed: 1, ignore_eos: true });
  assert.equal(c.object, "text_completion");
  assert.equal(c.choices[0].finish_reason, "length");
  assert.equal(c.usage.completion_tokens, 5);
  assert.ok(c.choices[0].text.length > 0);
});

await check("chat.completions.create answers as the assistant", async () => {
  const c = await client.chat.completions.create({ model, messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], max_tokens: 4, seed: 2, ignore_eos: true });
  assert.equal(c.choices[0].message.role, "assistant");
  assert.equal(c.choices[0].finish_reason, "length");
  assert.equal(c.usage.completion_tokens, 4);
});

await check("a streamed chat joins to the same text as the non-streamed one", async () => {
  const request = { model, messages: [{ role: "user", content: "Tell me a story" }], max_tokens: 12, seed: 3, ignore_eos: true };
  const whole = await client.chat.completions.create(request);
  const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? "";
      finish = choice.finish_reason ?? finish;
    }
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, "length");
  assert.equal(usage.completion_tokens, 12);
});

await check("a streamed completion joins to the same text", async () => {
  const request = { model, prompt: "Once upon a time", max_tokens: 10, seed: 4, ignore_eos: true };
  const whole = await client.completions.create(request);
  let text = "";
  for await (const chunk of await client.completions.create({ ...request, stream: true })) {
    text += chunk.choices[0]?.text ?? "";
  }
  assert.equal(text, whole.choices[0].text);
});

await check("a bad request is a BadRequestError naming the field", async () => {
  await assert.rejects(
    client.completions.create({ model, prompt: "x", temperature: 5 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === "temperature" && e.type === "invalid_request_error");
});

await check("an unknown model is a NotFoundError", async () => {
  await assert.rejects(
    client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === "model_not_found");
});

console.log(`${passed} passed, 0 failed`);
