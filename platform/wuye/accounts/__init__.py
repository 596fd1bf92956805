"""Users: the vendor's staff in the public schema, each company's staff (later its owners) in its own."""
