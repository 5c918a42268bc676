// Small behaviours on top of htmx. No framework; everything works without it too.
// The Content-Security-Policy runs no inline script or handler: markup asks for behaviour
// with data- attributes, and this file supplies it.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
document.addEventListener("change", (event) => {
  // A select that acts at once (the cockpit switcher, a task's owner); htmx hears the
  // submit event on forms that post with it. Without JavaScript a <noscript> button does.
  const select = event.target.closest("select[data-submit-on-change]");
  if (select && select.form) select.form.requestSubmit();
});
document.addEventListener("htmx:xhr:progress", (event) => {
  // Upload progress for CSV imports (the form carries data-upload-progress).
  const form = event.target.closest("form[data-upload-progress]");
  if (!form || !event.detail.lengthComputable) return;
  const bar = form.querySelector("progress");
  if (bar) {
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
});
document.addEventListener("htmx:afterSwap", (event) => {
  // After a list swap keep keyboard users where they were: focus the results' heading.
  const target = event.detail.target;
  if (target && target.dataset.focusAfterSwap !== undefined) {
    const heading = target.querySelector("[data-results-heading]");
    if (heading) heading.focus({ preventScroll: true });
  }
});

// @mention autocomplete for chatter: suggests people after "@", inserts "@username ".
document.addEventListener("input", async (event) => {
  const box = event.target;
  if (!(box instanceof HTMLTextAreaElement) || !box.dataset.mentions) return;
  const list = document.getElementById(box.getAttribute("aria-controls"));
  const before = box.value.slice(0, box.selectionStart);
  const match = before.match(/(?:^|\s)@([\w.+-]*)$/);
  if (!match) { list.hidden = true; return; }
  const response = await fetch(`${box.dataset.mentions}?q=${encodeURIComponent(match[1])}`);
  if (!response.ok) return;
  const { results } = await response.json();
  list.replaceChildren(...results.map((person, i) => {
    const item = document.createElement("li");
    item.setAttribute("role", "option");
    item.id = `mention-${i}`;
    item.textContent = `@${person.username} — ${person.name} (${person.role})`;
    item.addEventListener("mousedown", (e) => { e.preventDefault(); insertMention(box, person.username); });
    return item;
  }));
  list.hidden = results.length === 0;
  list.dataset.active = "0";
  highlight(list);
});

document.addEventListener("keydown", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLTextAreaElement) || !box.dataset.mentions) return;
  const list = document.getElementById(box.getAttribute("aria-controls"));
  if (!list || list.hidden) return;
  const items = list.querySelectorAll("li");
  let active = Number(list.dataset.active || 0);
  if (event.key === "ArrowDown") active = (active + 1) % items.length;
  else if (event.key === "ArrowUp") active = (active - 1 + items.length) % items.length;
  else if (event.key === "Enter" || event.key === "Tab") {
    event.preventDefault();
    insertMention(box, items[active].textContent.split(" ")[0].slice(1));
    return;
  } else if (event.key === "Escape") { list.hidden = true; return; }
  else return;
  event.preventDefault();
  list.dataset.active = String(active);
  highlight(list);
});

function highlight(list) {
  list.querySelectorAll("li").forEach((li, i) => {
    li.setAttribute("aria-selected", String(i === Number(list.dataset.active)));
  });
}

function insertMention(box, username) {
  const caret = box.selectionStart;
  const before = box.value.slice(0, caret).replace(/@([\w.+-]*)$/, `@${username} `);
  box.value = before + box.value.slice(caret);
  box.selectionStart = box.selectionEnd = before.length;
  document.getElementById(box.getAttribute("aria-controls")).hidden = true;
  box.focus();
}
