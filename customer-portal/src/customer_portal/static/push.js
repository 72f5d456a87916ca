// "Get updates on this phone" on the appointment page (docs/customer-portal.md, Updates on
// the phone). The page renders the section hidden; this script shows it only where the
// browser can take push messages, and on a tap: asks permission, subscribes with the
// garage's VAPID public key (data-key) through the portal's service worker, and posts
// the subscription to the portal (data-action, CSRF token in X-CSRFToken), which passes
// it on with the appointment's link. No inline code: CSP script-src 'self'.
(function () {
  "use strict";
  var box = document.getElementById("push");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return;
  }
  var button = box.querySelector("button");
  var status = box.querySelector(".push-status");

  function say(name) {
    status.textContent = name ? box.getAttribute("data-" + name) || "" : "";
  }

  function keyBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function sameKey(subscription, key) {
    var held = subscription.options && subscription.options.applicationServerKey;
    if (!held) {
      return true; // the browser does not say: keep it
    }
    var bytes = new Uint8Array(held);
    return bytes.length === key.length && bytes.every(function (b, i) { return b === key[i]; });
  }

  var key = keyBytes(box.getAttribute("data-key"));
  var registered = navigator.serviceWorker.register(box.getAttribute("data-worker"));
  box.hidden = false;

  registered
    .then(function (registration) { return registration.pushManager.getSubscription(); })
    .then(function (subscription) {
      if (subscription && Notification.permission === "granted") {
        say("on");
      }
    })
    .catch(function () { /* the button still tries, and says what went wrong */ });

  function subscription(registration) {
    return registration.pushManager.getSubscription().then(function (held) {
      if (held && sameKey(held, key)) {
        return held;
      }
      // Made with another key (the garage changed it): replaced.
      var gone = held ? held.unsubscribe() : Promise.resolve(true);
      return gone.then(function () {
        return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      });
    });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    say("busy");
    Promise.resolve(Notification.requestPermission())
      .then(function (permission) {
        if (permission !== "granted") {
          throw new Error("denied");
        }
        return registered;
      })
      .then(subscription)
      .then(function (held) {
        return fetch(box.getAttribute("data-action"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": box.getAttribute("data-csrf") },
          body: JSON.stringify(held)
        });
      })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("failed");
        }
        say("done");
      })
      .catch(function (error) {
        say(error && error.message === "denied" ? "denied" : "failed");
      })
      .then(function () {
        button.disabled = false;
      });
  });
})();
