"""Word lists for the demo's partner, account and manager names."""

# fmt: off
#: Channel managers by region (index into REGIONS).
MANAGERS = (
    ("Alex Morgan", "Jordan Lee", "Casey Brooks", "Taylor Reed"),
    ("Lena Fischer", "Oliver Grant", "Sophie Martin", "Marco Rossi"),
    ("Hiro Tanaka", "Priya Nair", "Mei Lin", "Jack Wilson"),
    ("Lucia Gomez", "Rafael Souza", "Ana Torres"),
)
PARTNER_WORDS_1 = (
    "Apex", "Blue", "Cedar", "Delta", "Echo", "Falcon", "Granite", "Harbor", "Iron", "Juniper",
    "Keystone", "Lumen", "Maple", "Nimbus", "Orion", "Pioneer", "Quantum", "Redwood", "Summit",
    "Titan", "Unity", "Vertex", "Willow", "Zenith", "Atlas", "Beacon", "Cobalt", "Crest",
    "Ember", "Fjord", "Glacier", "Horizon", "Insight", "Kestrel", "Lighthouse", "Meridian",
    "Northstar", "Onyx", "Polaris", "Sterling",
)
PARTNER_WORDS_2 = (
    "Data", "Cloud", "Net", "Logic", "Tech", "Secure", "Byte", "Core", "Stack", "Wave", "Link",
    "Grid", "Edge", "Point", "Bridge", "Path", "Scale", "Sphere", "Signal", "Vision",
)
PARTNER_WORDS_3 = (
    "Solutions", "Systems", "Networks", "Technologies", "Consulting", "Partners", "Group",
    "IT Services", "Integration", "Digital",
)
LEGAL_FORMS = {
    "Germany": "GmbH", "United Kingdom": "Ltd", "France": "SAS", "Netherlands": "B.V.",
    "Spain": "S.L.", "Italy": "S.r.l.", "Sweden": "AB", "United States": "Inc.",
    "Canada": "Inc.", "Australia": "Pty Ltd", "Japan": "K.K.", "Brazil": "Ltda.",
    "Mexico": "S.A. de C.V.",
}
INDUSTRIES = (
    "Manufacturing", "Financial Services", "Healthcare", "Retail", "Public Sector", "Education",
    "Energy", "Telecommunications", "Media", "Transportation",
)
ACCOUNT_WORDS_1 = (
    "Acme", "Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Litware", "Adatum",
    "Proseware", "Trey", "Lakeshore", "Riverside", "Hillcrest", "Oakwood", "Silverline",
    "Goldfield", "Stonebridge", "Clearwater", "Brightside", "Evergreen", "Highland", "Ironwood",
    "Kingsway", "Lancaster", "Midland", "Newport", "Oxford", "Pacific", "Queensbury",
    "Rockford", "Seaview", "Thornton", "Upland", "Valley", "Westfield", "Yorkshire", "Alpine",
    "Bayview", "Coastal", "Dover", "Eastgate", "Fairview", "Greenfield", "Hampton", "Inland",
    "Jasper", "Kent", "Lindon", "Marlow", "Norfolk", "Ridgeway", "Sunrise", "Tidewater",
    "Union", "Vista", "Whitmore", "Ashford", "Brookside", "Carlton", "Dunmore",
)
ACCOUNT_WORDS_2 = (
    "Foods", "Bank", "Health", "Motors", "Energy", "Logistics", "Pharma", "Retail", "Insurance",
    "Media", "Telecom", "Steel", "Chemicals", "Airlines", "Hotels", "Textiles",
    "Foods & Beverage", "Capital", "Labs", "Machinery", "Packaging", "Utilities", "Mining",
    "Software", "Electronics", "Shipping", "Paper", "Glass", "Agri", "Semiconductors",
)
ACCOUNT_WORDS_3 = (
    "Holdings", "Industries", "Group", "Corp", "International", "Company", "Partners",
    "Enterprises", "Worldwide", "Global", "& Co", "Limited",
)
COUNTRY_DOMAINS = {
    "Germany": "de", "United Kingdom": "co.uk", "France": "fr", "Netherlands": "nl",
    "Spain": "es", "Italy": "it", "Sweden": "se", "Australia": "com.au", "Japan": "jp",
    "Brazil": "com.br", "Mexico": "mx", "India": "in",
}
# fmt: on
