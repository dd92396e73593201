// A "Copy" button for a value shown once (a new access token), without inline
// script: Diary's Content-Security-Policy allows scripts from this site only.
//
// A button with data-copy="ID" copies the value of the element with that id and
// says so in the element whose id is in data-copy-status, a live region, so that
// screen readers hear it too. The button is rendered hidden and shown here, so a
// browser without script shows no button that cannot work.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copyStatus);
    if (!source || !status) {
      continue;
    }
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.value);
        status.textContent = "Copied";
      } catch (error) {
        // No clipboard (not a secure context, or permission refused): select the
        // value so the keyboard shortcut copies it.
        source.focus();
        source.select();
        status.textContent = "Could not copy: press Ctrl+C (⌘C on a Mac) to copy the selected token.";
      }
    });
  }
});
