// 童心守护 hotline console: live queue (SSE), conversation view, replies. Text is always set with
// textContent: nothing a user wrote can become markup here.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const PRIORITY = { urgent: "紧急", high: "高", normal: "普通" };
  const STATE = { waiting: "等待中", active: "处理中", closed: "已结束" };
  const REASON = { crisis: "危险信号", concern: "需要关注（请复核）", child_report: "报告孩子无人照看或不安全",
                   user_request: "用户要求人工", repeated_failure: "机器人答不上",
                   screening_needs_person: "筛查发现需人工", staff_pickup: "工作人员接入", user_returned: "用户返回机器人" };
  const LEVEL = { urgent: "紧急（危险信号）", concern: "关注（可能有风险，请复核）", none: "无" };
  // The screen's evidence: each signal's Chinese name, the words it fired on, and its weight on the score.
  function evidence(list) {
    return (list || []).map(e => e.label + (e.evidence ? "：“" + e.evidence + "”" : "") + "（" + (e.weight > 0 ? "+" : "") + e.weight + "）").join("\n") || "—";
  }
  const FROM = { user: "用户", bot: "机器人", staff: "工作人员", system: "系统" };
  // Buttons the user pressed arrive as payloads: show what they mean.
  const PAYLOAD = { "/request_human": "点了“转人工”", "/tx_back_to_bot": "点了“回到机器人”", "/tx_callback": "点了“留下电话回拨”",
                    "/tx_rate_good": "评价：满意", "/tx_rate_ok": "评价：一般", "/tx_rate_bad": "评价：不满意",
                    "/tx_confirm_delete": "点了“确认删除”", "/tx_cancel": "点了“取消”" };
  function action(text) { return text && text.charAt(0) === "/" ? "［" + (PAYLOAD[text] || "点了按钮 " + text) + "］" : null; }

  function el(tag, text, cls) { const e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
  async function api(path, body) {
    const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body) };
    const r = await fetch(path, opts);
    if (r.status === 401) { location.href = "/console/login"; throw new Error("login"); }
    const data = await r.json();
    if (!r.ok) throw new Error((data.error && data.error.message) || r.status);
    return data;
  }
  function waited(s) { return s < 60 ? s + "秒" : s < 3600 ? Math.floor(s / 60) + "分钟" : Math.floor(s / 3600) + "小时"; }

  let title = document.title, flashing = null;
  function alertUrgent() {
    if (!document.querySelector(".alert-banner")) {
      const b = el("div", "⚠ 有紧急对话：孩子可能有危险，请立即处理", "alert-banner"); b.setAttribute("role", "alert");
      b.addEventListener("click", () => b.remove()); document.body.appendChild(b);
    }
    try { const ctx = new (window.AudioContext || window.webkitAudioContext)(); const o = ctx.createOscillator(); o.frequency.value = 880; o.connect(ctx.destination); o.start(); o.stop(ctx.currentTime + 0.6); } catch (e) { /* sound is best effort */ }
    if (!flashing) { let on = false; flashing = setInterval(() => { document.title = (on = !on) ? "【紧急】" + title : title; }, 800); }
  }
  window.addEventListener("focus", () => { if (flashing) { clearInterval(flashing); flashing = null; document.title = title; } });

  async function renderQueue() {
    const data = await api("/console/api/queue");
    document.getElementById("duty").textContent = (data.on_duty ? "值班时间内" : "非值班时间") + " · 在线工作人员 " + data.staff_online + " 人";
    const body = document.querySelector("#queue tbody"); body.replaceChildren();
    document.getElementById("empty").hidden = data.tickets.length > 0;
    for (const t of data.tickets) {
      const tr = el("tr", null, t.priority); tr.dataset.ticket = t.id;
      const p = el("td"); p.appendChild(el("span", PRIORITY[t.priority], "badge " + t.priority)); tr.appendChild(p);
      tr.appendChild(el("td", STATE[t.state] + (t.queue_position ? "（第" + t.queue_position + "位）" : "")));
      tr.appendChild(el("td", (REASON[t.reason] || t.reason) + (t.risk_flags.length ? "：" + t.risk_flags.join("、") : "")));
      tr.appendChild(el("td", t.channel)); tr.appendChild(el("td", waited(t.waiting_s)));
      const shown = action(t.preview);
      tr.appendChild(el("td", shown || t.preview, shown ? "preview-action" : null)); tr.appendChild(el("td", t.callback_phone || "—")); tr.appendChild(el("td", t.assignee || "—"));
      const a = el("a", "查看"); a.href = "/console/tickets/" + encodeURIComponent(t.id); const td = el("td"); td.appendChild(a); tr.appendChild(td);
      body.appendChild(tr);
    }
    if (data.tickets.some(t => t.priority === "urgent" && t.state === "waiting")) alertUrgent();
  }

  async function renderTicket(id) {
    const data = await api("/console/api/tickets/" + encodeURIComponent(id));
    const t = data.ticket;
    document.getElementById("ticket-title").textContent = "· " + PRIORITY[t.priority] + " · " + STATE[t.state];
    const dl = document.getElementById("summary"); dl.replaceChildren();
    const s = t.summary || {}, slots = s.slots || {};
    const rows = [["原因", REASON[t.reason] || t.reason], ["渠道", t.channel],
      ["风险等级", LEVEL[t.risk_level] || "—"], ["风险类别", (t.risk_flags || []).join("、") || "—"], ["判断依据", evidence(t.evidence)],
      ["身份", slots.role || "—"], ["县（市、区）", slots.county || "—"], ["孩子年龄", slots.child_age != null ? slots.child_age + "岁" : "—"],
      ["父亲", slots.father || "—"], ["母亲", slots.mother || "—"], ["筛查结果", s.verdicts ? Object.entries(s.verdicts).map(([k, v]) => k + "：" + v).join("\n") : "—"],
      ["回拨电话", t.callback_phone || "—"], ["处理人", t.assignee || "—"]];
    for (const [k, v] of rows) { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", String(v))); }
    const ol = document.getElementById("transcript"); ol.replaceChildren();
    for (const m of data.transcript) {
      const li = el("li", null, m.from); li.appendChild(el("span", (FROM[m.from] || m.from) + (m.staff ? "（" + m.staff + "）" : "") + " · " + new Date(m.at).toLocaleString(), "meta"));
      const shown = m.from === "user" ? action(m.text) : null;
      if (shown) li.appendChild(el("span", shown, "action")); else li.appendChild(document.createTextNode(m.text));
      if (m.delivery && !m.delivery.ok) {
        // The user's platform refused it (a blocked bot, an expired WeChat window): say so, offer to resend.
        const failed = el("span", "未送达：对方平台没有收下这条消息（例如用户屏蔽了公众号或机器人），可以重新发送，或按回拨电话联系", "undelivered");
        failed.title = m.delivery.error || "";  // the platform's own words, for whoever looks into it
        const retry = el("button", "重新发送", "retry"); retry.type = "button";
        retry.addEventListener("click", async () => { retry.disabled = true; await api("/console/api/messages/" + m.id + "/retry", {}); renderTicket(id); });
        li.appendChild(failed); li.appendChild(retry); li.classList.add("failed");
      }
      ol.appendChild(li);
    }
    ol.scrollTop = ol.scrollHeight;
    const canned = document.getElementById("canned");
    if (canned.options.length <= 1) for (const c of data.canned) { const o = el("option", c.title); o.value = c.text; canned.appendChild(o); }
    const reassign = document.getElementById("reassign-to");
    if (reassign && reassign.options.length === 0) for (const s2 of data.staff) { const o = el("option", s2.name); o.value = s2.id; reassign.appendChild(o); }
    document.getElementById("take").hidden = t.state !== "waiting";
  }

  function live(onEvent) {
    const es = new EventSource("/console/events");
    es.onmessage = (m) => { const e = JSON.parse(m.data); if (e.urgent) alertUrgent(); onEvent(e); };
  }

  document.getElementById("logout")?.addEventListener("click", async () => { await api("/console/logout", {}); location.href = "/console/login"; });

  if (window.TX_PAGE === "queue") { renderQueue(); live(() => renderQueue()); setInterval(renderQueue, 30000); }
  if (window.TX_PAGE === "ticket") {
    const id = document.querySelector("[data-ticket]").dataset.ticket;
    renderTicket(id); live(() => renderTicket(id)); setInterval(() => renderTicket(id), 30000);  // if live events drop
    document.getElementById("canned").addEventListener("change", (e) => { if (e.target.value) document.getElementById("reply-text").value = e.target.value; });
    document.getElementById("take").addEventListener("click", async () => { await api("/console/api/tickets/" + id + "/take", {}); renderTicket(id); });
    document.getElementById("reply-form").addEventListener("submit", async (e) => {
      e.preventDefault(); const box = document.getElementById("reply-text"); const text = box.value.trim(); if (!text) return;
      await api("/console/api/tickets/" + id + "/reply", { text }); box.value = ""; renderTicket(id);
    });
    document.getElementById("close-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      await api("/console/api/tickets/" + id + "/close", { outcome_code: document.getElementById("outcome").value, note: document.getElementById("outcome-note").value || null });
      location.href = "/console";
    });
    document.getElementById("reassign-form")?.addEventListener("submit", async (e) => { e.preventDefault(); await api("/console/api/tickets/" + id + "/reassign", { staff_id: Number(document.getElementById("reassign-to").value) }); renderTicket(id); });
    document.getElementById("canned-form")?.addEventListener("submit", async (e) => {
      e.preventDefault(); await api("/console/api/canned", { title: document.getElementById("canned-title").value, text: document.getElementById("canned-text").value });
      e.target.reset(); document.getElementById("canned").replaceChildren(el("option", "常用回复…")); renderTicket(id);
    });
  }
})();
