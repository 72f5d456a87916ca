"""Plumbing every Garage Management System service uses; no domain code lives here.

Import from the submodules (``service_kit.app``, ``service_kit.problems`` ...): this
package itself imports nothing, so domain code can use ``service_kit.problems``
without pulling in Flask."""
