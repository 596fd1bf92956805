"""Online payments (ARCHITECTURE.md, Payments): the gateway interface, the Stripe adapter, the webhook
endpoint and the event log. `modules/fees` asks it to start payments and hears back through callbacks
(`callbacks.register`); this package never imports a tenant module.

Lives in the public schema: a webhook delivery arrives before anyone knows which company it is for; the
connected account it names says so."""
