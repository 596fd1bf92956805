"""Stripe (billing_gateway): the platform's API keys, the API's address, and the webhook endpoint's secret and
rules. Empty keys leave online payments closed: owners are told to pay at the desk."""

from .env import env_int, env_str

STRIPE_SECRET_KEY = env_str(
    "WUYE_STRIPE_SECRET_KEY",
    "",
    "The platform's Stripe secret key (sk_test_... / sk_live_...); empty closes online payments.",
    secret=True,
)
STRIPE_PUBLISHABLE_KEY = env_str(
    "WUYE_STRIPE_PUBLISHABLE_KEY", "", "The platform's Stripe publishable key (pk_...), given to Stripe.js."
)
STRIPE_API_BASE = env_str(
    "WUYE_STRIPE_API_BASE", "https://api.stripe.com", "Address of the Stripe API (an emulator's in tests)."
)
STRIPE_JS_URL = env_str("WUYE_STRIPE_JS_URL", "https://js.stripe.com/v3/", "Where owners' browsers load Stripe.js.")
STRIPE_WEBHOOK_SECRET = env_str(
    "WUYE_STRIPE_WEBHOOK_SECRET",
    "",
    "Signing secret of the Connect webhook endpoint (whsec_...); empty refuses every delivery.",
    secret=True,
)
STRIPE_WEBHOOK_TOLERANCE = env_int(
    "WUYE_STRIPE_WEBHOOK_TOLERANCE", 300, "Seconds a signed webhook delivery stays acceptable (replays after: refused)."
)
# A Stripe event is a few kilobytes; anything near this is not one.
STRIPE_WEBHOOK_MAX_BYTES = 1024 * 1024
