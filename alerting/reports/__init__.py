"""Reports: the 登记表 (registration form) of one warning, as data and as .docx / .xlsx files."""
