"""The portal: base layout, navigation, static assets, language and time zone per request."""
