"""Card front doors: the ISO 8583 server, the Lithic ASA endpoint, and the authorization
engine that both decide through."""
