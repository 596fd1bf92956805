"""Text messages (wuye.core.sms): which backend sends them."""

from .env import WUYE_ENV, env_str

SMS_BACKEND = env_str(
    "WUYE_SMS_BACKEND",
    "wuye.core.sms.ConsoleBackend",
    "Dotted path of the backend that sends text messages; the console one logs them with the number masked.",
)
if WUYE_ENV == "test":
    # As Django's test runner does for e-mail: whatever the shell says, tests never send a real message.
    SMS_BACKEND = "wuye.core.sms.LocmemBackend"
