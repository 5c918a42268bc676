// Small behaviours on top of htmx. No framework; everything works without it too.
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
