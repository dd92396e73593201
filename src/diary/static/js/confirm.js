// Ask before a form does something that cannot be undone, without inline script
// (Diary's Content-Security-Policy allows scripts from this site only): a form
// with data-confirm="Question?" is submitted only if the question is answered OK.
// Without script the form submits as it is; pages whose action loses data (an
// entry's Delete) ask on a page of their own instead, which needs no script.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined) {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }
});
