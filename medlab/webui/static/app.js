// medlab web page: a client of /v1/chat/completions like any other (streamed, with the API key
// when the server has one), plus the guard's findings from the response's "medlab" field.
// Model text is only ever inserted with textContent / text nodes, never as HTML.
"use strict";

const KEY_STORE = "medlab.apiKey";
const KIND_LABEL = {
  specific: "specific drug name 具体药名",
  class: "drug class 药物类别",
  invented: "invented drug-like name 疑似编造",
  echoed: "named by the user first 用户提到",
};
const REFERRAL = {
  emergency: ["Emergency 立即就医", "emergency"],
  routine: ["See a doctor 建议就医", "routine"],
  conditional: ["See a doctor if… 视情况就医", "conditional"],
  none: ["No referral 未建议就医", "none"],
};
const SECTIONS = [
  ["summary", "Summary 摘要"],
  ["analysis", "Analysis 分析"],
  ["suggestions", "Suggestions 建议"],
];

const state = { config: null, messages: [], busy: false, controller: null };
const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// --- server access ----------------------------------------------------------------------

function authHeaders(extra) {
  const headers = Object.assign({}, extra || {});
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers.Authorization = "Bearer " + key;
  return headers;
}

function askKey(message) {
  const dialog = $("key-dialog");
  const error = $("key-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("key-input").value = "";
  dialog.showModal();
  return new Promise((resolve) => {
    const form = $("key-form");
    const submit = (event) => {
      event.preventDefault();
      const key = $("key-input").value.trim();
      if (!key) return;
      form.removeEventListener("submit", submit);
      dialog.close();
      resolve(key);
    };
    form.addEventListener("submit", submit);
  });
}

// The key is asked once (when the server answers 401) and kept for this tab.
async function ensureKey() {
  for (;;) {
    const response = await fetch("/v1/models", { headers: authHeaders() });
    if (response.status !== 401) return response;
    const refused = sessionStorage.getItem(KEY_STORE) !== null;
    sessionStorage.setItem(KEY_STORE, await askKey(refused ? "That key was refused." : ""));
  }
}

function setStatus(text, stateName) {
  const status = $("status");
  status.textContent = text;
  status.dataset.state = stateName;
}

async function init() {
  bindControls();
  try {
    const config = await (await fetch("/webui/config")).json();
    state.config = config;
    applyConfig(config);
    const models = await ensureKey();
    if (!models.ok) throw new Error(`/v1/models answered ${models.status}`);
    $("forget-key").hidden = sessionStorage.getItem(KEY_STORE) === null;
    setStatus("ready", "ready");
  } catch (error) {
    setStatus("server unreachable: " + error.message, "error");
  }
}

function applyConfig(config) {
  $("model").textContent = `${config.model} · ${config.mode === "raw" ? "raw model" : "guarded chatbot"}`;
  const mode = config.default_mode === "structured" ? "structured" : "normal";
  $("mode-" + mode).checked = true;
  const select = $("prompt");
  for (const prompt of config.prompts) {
    const option = el("option", null, prompt.ref);
    option.value = prompt.ref;
    option.dataset.description = prompt.description;
    select.append(option);
  }
  if (config.prompt) select.value = config.prompt;
  $("prompt-section").hidden = config.mode === "raw";
  showPromptDescription();
  $("temperature").value = config.params.temperature;
  $("top-p").value = config.params.top_p;
  $("max-new-tokens").value = config.params.max_new_tokens;
  $("max-new-tokens").max = config.context_length;
  showParams();
}

function showPromptDescription() {
  const option = $("prompt").selectedOptions[0];
  $("prompt-description").textContent = option ? option.dataset.description : "";
}

function showParams() {
  $("temperature-value").textContent = Number($("temperature").value).toFixed(2);
  $("top-p-value").textContent = Number($("top-p").value).toFixed(2);
}

function bindControls() {
  $("temperature").addEventListener("input", showParams);
  $("top-p").addEventListener("input", showParams);
  $("prompt").addEventListener("change", showPromptDescription);
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  $("input").addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter is a new line; never while an input method composes (拼音)
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  $("stop").addEventListener("click", () => state.controller && state.controller.abort());
  $("new-conversation").addEventListener("click", newConversation);
  $("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    $("forget-key").hidden = true;
    init();
  });
}

function newConversation() {
  if (state.controller) state.controller.abort();
  state.messages = [];
  const conversation = $("conversation");
  for (const node of Array.from(conversation.children)) {
    if (node.id !== "empty") node.remove();
  }
  $("empty").hidden = false;
  $("input").focus();
}

// --- one turn ---------------------------------------------------------------------------

function readParams() {
  return {
    temperature: Number($("temperature").value),
    top_p: Number($("top-p").value),
    max_tokens: Math.max(1, Math.round(Number($("max-new-tokens").value) || 1)),
  };
}

function setBusy(busy) {
  state.busy = busy;
  $("send").disabled = busy;
  $("stop").hidden = !busy;
}

async function send() {
  const input = $("input");
  const question = input.value.trim();
  if (!question || state.busy || !state.config) return;
  input.value = "";
  $("empty").hidden = true;
  const structured = $("mode-structured").checked;
  const turn = addTurn(question, structured);
  const history = state.messages.concat([{ role: "user", content: question }]);
  const body = Object.assign(
    {
      model: state.config.model,
      messages: history,
      stream: true,
      stream_options: { include_usage: true },
      response_format: { type: structured ? "json_object" : "text" },
    },
    readParams(),
  );
  if (state.config.mode !== "raw") body.medlab = { prompt: $("prompt").value };

  setBusy(true);
  state.controller = new AbortController();
  const started = performance.now();
  let firstText = null;
  let text = "";
  let found = null;
  let usage = null;
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: authHeaders({ "Content-Type": "application/json" }),
      body: JSON.stringify(body),
      signal: state.controller.signal,
    });
    if (response.status === 401) {
      sessionStorage.setItem(KEY_STORE, await askKey("The server refused the API key."));
      throw new Error("API key updated: send the question again.");
    }
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        message = (await response.json()).error.message || message;
      } catch (_) {
        // not an OpenAI-shaped error
      }
      throw new Error(message);
    }
    for await (const chunk of sseChunks(response)) {
      if (chunk.medlab) found = chunk.medlab;
      if (chunk.usage) usage = chunk.usage;
      const choice = (chunk.choices || [])[0];
      const piece = choice && choice.delta && choice.delta.content;
      if (piece) {
        if (firstText === null) firstText = performance.now() - started;
        text += piece;
        turn.card.dataset.chunks = String(Number(turn.card.dataset.chunks || 0) + 1);
        turn.streaming.textContent = text;
        turn.card.dataset.state = "streaming";
      }
    }
    const total = performance.now() - started;
    state.messages = history.concat([{ role: "assistant", content: text }]);
    finishTurn(turn, text, found, usage, { firstText, total }, structured);
  } catch (error) {
    const message = error.name === "AbortError" ? "stopped" : error.message;
    failTurn(turn, message);
  } finally {
    state.controller = null;
    setBusy(false);
  }
}

// Server-sent events of an OpenAI stream, parsed as they arrive.
async function* sseChunks(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return;
        yield JSON.parse(data);
      }
    }
  }
}

// --- rendering --------------------------------------------------------------------------

function scrollDown() {
  const conversation = $("conversation");
  conversation.scrollTop = conversation.scrollHeight;
}

function addTurn(question, structured) {
  const conversation = $("conversation");
  const user = el("div", "message user");
  user.append(el("div", "bubble", question));
  const card = el("article", "message assistant");
  card.dataset.state = "waiting";
  card.dataset.mode = structured ? "structured" : "normal";
  const streaming = el("div", "streaming", "");
  const waiting = el("div", "waiting", "thinking and checking… 正在生成并检查");
  card.append(waiting, streaming);
  conversation.append(user, card);
  scrollDown();
  return { card, streaming, waiting };
}

function failTurn(turn, message) {
  turn.card.dataset.state = "error";
  turn.waiting.remove();
  turn.card.append(el("p", "error", message));
  scrollDown();
}

// Text with the drug mentions marked; offsets are code points (Python str indices).
function highlighted(text, mentions) {
  const fragment = document.createDocumentFragment();
  const chars = Array.from(text);
  let position = 0;
  for (const mention of mentions || []) {
    if (mention.start < position || mention.end > chars.length) continue;
    fragment.append(document.createTextNode(chars.slice(position, mention.start).join("")));
    const mark = el("mark", "drug drug-" + mention.kind, chars.slice(mention.start, mention.end).join(""));
    mark.dataset.kind = mention.kind;
    mark.title = `${KIND_LABEL[mention.kind] || mention.kind} · ${mention.canonical}`;
    fragment.append(mark);
    position = mention.end;
  }
  fragment.append(document.createTextNode(chars.slice(position).join("")));
  return fragment;
}

function renderValue(value, mentions) {
  if (typeof value === "string") {
    const span = el("span", "value");
    span.append(highlighted(value, mentions));
    return span;
  }
  if (Array.isArray(value)) {
    const list = el("ul", "items");
    value.forEach((item, i) => {
      const li = el("li");
      li.append(renderValue(item, Array.isArray(mentions) ? mentions[i] : null));
      list.append(li);
    });
    return list;
  }
  return el("span", "value", value === null ? "—" : JSON.stringify(value));
}

function renderStructured(data, mentions, text) {
  const box = el("div", "structured");
  const known = SECTIONS.filter(([key]) => key in data);
  const keys = known.length ? known : Object.keys(data).map((key) => [key, key]);
  for (const [key, label] of keys) {
    const section = el("section", "section section-" + key);
    section.dataset.section = key;
    section.append(el("h3", null, label));
    section.append(renderValue(data[key], mentions ? mentions[key] : null));
    box.append(section);
  }
  const raw = el("details", "raw");
  raw.append(el("summary", null, "Raw JSON"));
  raw.append(el("pre", null, text));
  box.append(raw);
  return box;
}

function badge(text, className, title) {
  const node = el("span", "badge " + className, text);
  if (title) node.title = title;
  return node;
}

function renderGuard(found) {
  const guard = el("div", "guard");
  const row = el("div", "badges");
  const [label, level] = REFERRAL[found.referral_level] || [found.referral_level, "none"];
  const referral = badge(label, "referral referral-" + level, "referral level: " + found.referral_level);
  referral.dataset.level = found.referral_level;
  row.append(referral);
  if (found.fallback) row.append(badge("Safe fallback 安全兜底回答", "outcome fallback", "both the answer and its repair failed the checks"));
  else if (found.repaired) row.append(badge("Repaired 已修正", "outcome repaired", "the first answer failed the checks and was rewritten"));
  else if (found.violations) row.append(badge("Passed checks 通过检查", "outcome passed"));
  if (found.cached) row.append(badge("cached", "outcome cached"));
  const counts = countKinds(found.drug_mentions);
  for (const kind of ["specific", "invented", "echoed", "class"]) {
    if (counts[kind]) row.append(badge(`${counts[kind]} ${kind}`, "drug-count drug-" + kind, KIND_LABEL[kind]));
  }
  guard.append(row);

  const notes = [];
  for (const v of found.violation_details || []) notes.push(["first answer", v]);
  for (const v of found.repair_violation_details || []) notes.push(["repair", v]);
  if (notes.length) {
    const list = el("ul", "violations");
    for (const [when, v] of notes) {
      const li = el("li");
      li.append(el("span", "when", when), el("code", null, v.code));
      if (v.path !== "$") li.append(el("span", "path", v.path));
      li.append(el("span", "what", v.message));
      list.append(li);
    }
    guard.append(list);
  }
  for (const flag of found.kb_flag_details || []) guard.append(el("p", "kb-flag", "knowledge base: " + flag.reason));
  const rejected = found.rejected || [];
  rejected.forEach((answer, i) => {
    const box = el("details", "rejected");
    const which = i === 0 ? "first answer" : "repaired answer";
    const kinds = countKinds(answer.drug_mentions);
    const summary = el("summary", null, `Rejected ${which} 被拦截的回答 · not shown to the user`);
    for (const kind of ["specific", "invented", "echoed", "class"]) {
      if (kinds[kind]) summary.append(badge(`${kinds[kind]} ${kind}`, "drug-count drug-" + kind, KIND_LABEL[kind]));
    }
    const text = el("div", "plain");
    text.append(highlighted(answer.text, answer.drug_mentions));
    box.append(summary, text);
    guard.append(box);
  });
  return guard;
}

function countKinds(mentions) {
  const counts = {};
  for (const mention of mentions || []) counts[mention.kind] = (counts[mention.kind] || 0) + 1;
  return counts;
}

function seconds(ms) {
  return ms === null || ms === undefined ? "—" : (ms / 1000).toFixed(2) + " s";
}

function renderTimings(times, found, usage) {
  const parts = [`first text ${seconds(times.firstText)}`, `total ${seconds(times.total)}`];
  if (found && found.timings) {
    parts.push(`model first token ${seconds(found.timings.model_ttft_s * 1000)}`);
    if (found.timings.generations > 1) parts.push(`${found.timings.generations} generations`);
  }
  if (usage) parts.push(`${usage.completion_tokens} tokens`);
  const line = el("div", "timings", parts.join(" · "));
  line.title =
    "first text and total: measured in this browser. The guarded chatbot releases an answer " +
    "only after its post-check, so its first text comes with the whole answer; model first " +
    "token: measured in the server.";
  if (found && found.params) {
    const p = found.params;
    const used = el("span", "params", ` · server used T ${p.temperature} · top_p ${p.top_p} · max ${p.max_new_tokens}${found.prompt ? " · " + found.prompt : ""}`);
    used.title = "generation parameters as the server applied them";
    line.append(used);
  }
  return line;
}

function finishTurn(turn, text, found, usage, times, structured) {
  const card = turn.card;
  turn.waiting.remove();
  turn.streaming.remove();
  card.dataset.state = "done";
  const body = el("div", "answer");
  if (structured && found && found.data && typeof found.data === "object" && !Array.isArray(found.data)) {
    body.append(renderStructured(found.data, found.data_mentions, text));
  } else {
    const plain = el("div", "plain");
    plain.append(highlighted(text, found ? found.drug_mentions : null));
    body.append(plain);
  }
  card.append(body);
  if (found) card.append(renderGuard(found));
  card.append(renderTimings(times, found, usage));
  scrollDown();
}

document.addEventListener("DOMContentLoaded", init);
