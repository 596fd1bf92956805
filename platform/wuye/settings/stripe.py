"""Stripe (billing_gateway): the webhook endpoint's secret and rules. (The API key and address come with
the payments themselves.)"""

from .env import env_int, env_str

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
