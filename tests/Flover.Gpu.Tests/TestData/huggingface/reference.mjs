// Runs Hugging Face's JavaScript references on a request file and prints the answers as JSON:
//   node reference.mjs tokenize <folder with tokenizer.json + tokenizer_config.json> <corpus.json>
//     -> [{ text, ids, idsWithSpecial, decoded }]: ids = encode(text, {add_special_tokens: false}),
//        idsWithSpecial = encode(text) (the post-processor's BOS),
//        decoded = decode(ids, {skip_special_tokens: true, clean_up_tokenization_spaces: false}) (Rust's decode does no clean-up)
//   node reference.mjs render <jinja-cases.json>
//     -> [{ name, output }] or [{ name, error }] for each case {name, template, variables}
// Flover's tests (tests/Flover.Gpu.Tests/Reference) run it where node exists and commit its answers
// as golden files, so the C# side is checked on machines without node too.
import fs from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";

const [mode, ...args] = process.argv.slice(2);
const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
let answers;
if (mode === "tokenize") {
  const [folder, corpusFile] = args;
  const tokenizer = new Tokenizer(readJson(path.join(folder, "tokenizer.json")), readJson(path.join(folder, "tokenizer_config.json")));
  answers = readJson(corpusFile).map((text) => {
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    return { text, ids, idsWithSpecial: tokenizer.encode(text).ids, decoded: ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }) };
  });
} else if (mode === "render") {
  answers = readJson(args[0]).map(({ name, template, variables }) => {
    try {
      return { name, output: new Template(template).render(variables) };
    } catch (error) {
      return { name, error: String(error.message) };
    }
  });
} else {
  console.error("usage: node reference.mjs tokenize <folder> <corpus.json> | render <cases.json>");
  process.exit(2);
}
process.stdout.write("[\n" + answers.map((answer) => " " + JSON.stringify(answer)).join(",\n") + "\n]\n");
