// Runs the WebAuthn ceremony of a Flask-Security passkey page without inline script
// (Diary's Content-Security-Policy allows scripts from this site only).
//
// A page marks its response form with data-passkey="register" or "signin" and puts
// the server's credential options in data-options. Flask-Security's own
// webauthn.js (handleRegister, handleSignin) talks to the browser; this file feeds
// it and posts the result, as the library's inline script would.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const form = document.querySelector("form[data-passkey]");
  if (!form) {
    return;
  }
  const ceremony = form.dataset.passkey === "register" ? handleRegister : handleSignin;
  const result = await ceremony(form.dataset.options);
  if (result.credential) {
    form.querySelector("[name=credential]").value = result.credential;
    form.submit();
    return;
  }
  const errors = document.getElementById("wan-errors");
  errors.textContent = result.error_msg || "The passkey did not answer.";
  errors.hidden = false;
  const retry = document.getElementById("wan-retry");
  if (retry) {
    retry.hidden = false;
  }
});
