// Sign-in with an access token, kept in localStorage until the operator signs out.

const KEY = "skywarden.token";

export function storedToken() {
  try { return localStorage.getItem(KEY) || ""; } catch { return ""; }
}

export function storeToken(token) {
  localStorage.setItem(KEY, token);
}

export function forgetToken() {
  localStorage.removeItem(KEY);
}

// Show the sign-in form until `check(token)` resolves (to /me); resolves with [token, me].
export function signIn(check, message = "") {
  const modal = document.getElementById("signin");
  const form = document.getElementById("signin-form");
  const input = document.getElementById("signin-token");
  const error = document.getElementById("signin-error");
  const submit = document.getElementById("signin-submit");
  modal.hidden = false;
  error.hidden = !message;
  error.textContent = message;
  input.value = "";
  input.focus();
  return new Promise((resolve) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      submit.disabled = true;
      error.hidden = true;
      try {
        const me = await check(token);
        storeToken(token);
        modal.hidden = true;
        form.onsubmit = null;
        resolve([token, me]);
      } catch (err) {
        error.textContent = err.status === 401 ? "This token is not valid." : `Sign-in failed: ${err.message}`;
        error.hidden = false;
      } finally {
        submit.disabled = false;
      }
    };
  });
}
