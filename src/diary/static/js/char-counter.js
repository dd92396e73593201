// A character counter under a text field, without inline script (Diary's
// Content-Security-Policy allows scripts from this site only): a textarea or input
// with data-counter and a maxlength shows how many characters are left, in a live
// region the field names in aria-describedby. The maximum is the field's own
// maxlength, which the server renders from its setting (ENTRY_MAX_LENGTH).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const field of document.querySelectorAll("[data-counter][maxlength]")) {
    const max = Number(field.getAttribute("maxlength"));
    if (!Number.isInteger(max) || max <= 0) {
      continue;
    }
    const counter = document.createElement("small");
    counter.id = `${field.id}-counter`;
    counter.className = "char-counter";
    counter.setAttribute("aria-live", "polite");
    counter.dataset.testid = "char-counter";
    field.insertAdjacentElement("afterend", counter);
    const described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", described ? `${described} ${counter.id}` : counter.id);

    const update = () => {
      // The browser's maxlength counts UTF-16 code units: so does this.
      const left = max - field.value.length;
      counter.textContent = `${left} of ${max} characters left`;
      counter.classList.toggle("char-counter-low", left <= Math.min(20, max / 10));
    };
    field.addEventListener("input", update);
    update();
  }
});
