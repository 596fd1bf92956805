"""Online payments (ARCHITECTURE.md, Payments): the gateway interface, the Stripe adapter, the webhook
endpoint and the event log. `modules/fees` asks it to start payments and hears back through callbacks.
Built by the issue "Owners pay their fees online"; nothing here yet is wired into the platform."""
