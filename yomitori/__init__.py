"""yomitori: AI-OCR + RPA for Japanese municipal tax forms."""
