// The customer portal's service worker, served as /sw.js from the portal's root (so its
// scope is the portal's pages): it shows what notification-management pushes - JSON with
// title, body, url (the portal page the message links to) and tag - and opens that page
// when the customer taps the notification. Only the portal's own pages are opened.
"use strict";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function message(event) {
  if (!event.data) {
    return {};
  }
  try {
    var data = event.data.json();
    return data && typeof data === "object" ? data : {};
  } catch (error) {
    return { body: event.data.text() };
  }
}

function portalPage(url) {
  var scope = self.registration.scope;
  try {
    var page = new URL(url, scope).href;
    return page.indexOf(scope) === 0 ? page : scope;
  } catch (error) {
    return scope;
  }
}

self.addEventListener("push", function (event) {
  var data = message(event);
  var options = { body: String(data.body || ""), data: { url: portalPage(data.url || "") } };
  if (data.tag) {
    options.tag = String(data.tag);
  }
  event.waitUntil(self.registration.showNotification(String(data.title || ""), options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = portalPage((event.notification.data && event.notification.data.url) || "");
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i += 1) {
        if (windows[i].url === url && "focus" in windows[i]) {
          return windows[i].focus();
        }
      }
      return self.clients.openWindow(url);
    })
  );
});
