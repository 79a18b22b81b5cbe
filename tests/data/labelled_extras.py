"""What mail clients add around a body, per language: senders, signatures, footers.

A signature is (role, company, phone, the company's mail domain).

Used by ``build_labelled_emails.py``; the emails themselves are in ``labelled_src/``.
"""

from __future__ import annotations

from typing import TypedDict

LANGUAGES: dict[str, dict[str, list[str]]] = {
    "en": {
        "first": ["Olivia", "James", "Priya", "Tom", "Grace", "Daniel", "Aisha", "Liam", "Megan",
                  "Connor", "Hannah", "Marcus", "Zoe", "Ethan", "Nadia", "Ben", "Chloe", "Sam"],
        "last": ["Whitfield", "Okafor", "Brennan", "Kapoor", "Doyle", "Fraser", "Nguyen", "Ellis",
                 "Harper", "Mensah", "Lindqvist", "Reid", "Carter", "Osei", "Walsh", "Patel"],
        "domains": ["gmail.com", "outlook.com", "brightline-logistics.co.uk", "fieldnote.io",
                    "harbourdental.com", "northwind-analytics.com", "yahoo.com", "kestrel.dev"],
    },
    "de": {
        "first": ["Lena", "Jonas", "Katrin", "Matthias", "Sabine", "Felix", "Anja", "Tobias",
                  "Julia", "Stefan", "Miriam", "Florian"],
        "last": ["Schäfer", "Becker", "Hoffmann", "Krüger", "Wagner", "Neumann", "Zimmermann",
                 "Braun", "Vogel", "Hartmann", "Lorenz", "Weiß"],
        "domains": ["web.de", "gmx.de", "t-online.de", "mueller-maschinenbau.de", "posteo.de",
                    "stadtwerke-lindau.de", "kanzlei-berger.at"],
    },
    "fr": {
        "first": ["Camille", "Julien", "Élodie", "Mathieu", "Claire", "Antoine", "Sophie",
                  "Nicolas", "Manon", "Hugo", "Inès"],
        "last": ["Lefèvre", "Moreau", "Girard", "Fontaine", "Rousseau", "Chevalier", "Lambert",
                 "Dubois", "Mercier", "Perrin"],
        "domains": ["orange.fr", "free.fr", "laposte.net", "atelier-girard.fr", "gmail.com",
                    "cabinet-fontaine.fr", "bluewin.ch"],
    },
    "es": {
        "first": ["Lucía", "Javier", "Marta", "Alejandro", "Carmen", "Diego", "Paula", "Sergio",
                  "Elena", "Andrés", "Valentina"],
        "last": ["García", "Fernández", "Ruiz", "Morales", "Navarro", "Ortega", "Castillo",
                 "Romero", "Vidal", "Herrera"],
        "domains": ["gmail.com", "hotmail.es", "telefonica.net", "grupo-navarro.es",
                    "clinicasol.mx", "estudio-vidal.com.ar"],
    },
    "it": {
        "first": ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro"],
        "last": ["Rossi", "Bianchi", "Esposito", "Colombo", "Ricci", "Marino"],
        "domains": ["libero.it", "gmail.com", "tiscali.it", "studio-colombo.it"],
    },
    "pt": {
        "first": ["Beatriz", "João", "Mariana", "Rafael", "Ana", "Tiago"],
        "last": ["Silva", "Santos", "Oliveira", "Costa", "Pereira", "Almeida"],
        "domains": ["gmail.com", "sapo.pt", "uol.com.br", "construtora-almeida.com.br"],
    },
    "nl": {
        "first": ["Sanne", "Daan", "Femke", "Bram", "Lotte", "Joris"],
        "last": ["de Vries", "Jansen", "Bakker", "Visser", "van Dijk", "Smit"],
        "domains": ["ziggo.nl", "kpnmail.nl", "gmail.com", "bakker-installatie.nl"],
    },
}  # fmt: skip


class Footers(TypedDict):
    signatures: list[tuple[str, str, str, str]]
    legal: list[str]
    mobile: list[str]


FOOTERS: dict[str, Footers] = {
    "en": {
        "signatures": [
            (
                "Operations Manager",
                "Brightline Logistics Ltd",
                "+44 20 7946 0321",
                "brightline-logistics.co.uk",
            ),
            (
                "Senior Account Executive",
                "Northwind Analytics",
                "+1 (415) 555-0142",
                "northwind-analytics.com",
            ),
            ("Practice Manager", "Harbour Dental Group", "02 9555 0199", "harbourdental.com"),
            ("Head of IT", "Kestrel Manufacturing", "+1 312 555 0187 ext. 214", "kestrel.dev"),
        ],
        "legal": [
            "This email and any attachments are confidential and intended solely for the "
            "addressee. If you have received it in error, please notify the sender and delete "
            "it. Any views expressed are those of the author and not necessarily of the company.",
            "CONFIDENTIALITY NOTICE: The contents of this email message and any attachments are "
            "intended solely for the addressee(s) and may contain confidential and/or "
            "privileged information. Please consider the environment before printing.",
        ],
        "mobile": ["Sent from my iPhone", "Sent from my Galaxy", "Sent from Outlook for Android"],
    },
    "de": {
        "signatures": [
            (
                "Leiterin Einkauf",
                "Müller Maschinenbau GmbH",
                "+49 7531 98 44 120",
                "mueller-maschinenbau.de",
            ),
            (
                "Sachbearbeiter Kundenservice",
                "Stadtwerke Lindau",
                "+49 8382 704 0",
                "stadtwerke-lindau.de",
            ),
            ("Rechtsanwältin", "Kanzlei Berger & Partner", "+43 1 512 77 30", "kanzlei-berger.at"),
        ],
        "legal": [
            "Diese E-Mail enthält vertrauliche und/oder rechtlich geschützte Informationen. Wenn "
            "Sie nicht der richtige Adressat sind, informieren Sie bitte sofort den Absender und "
            "vernichten Sie diese Mail. Geschäftsführer: Dr. Klaus Müller, HRB 381245, "
            "Amtsgericht Freiburg.",
        ],
        "mobile": ["Von meinem iPhone gesendet", "Gesendet von meinem Smartphone"],
    },
    "fr": {
        "signatures": [
            (
                "Responsable administrative",
                "Atelier Girard SARL",
                "+33 4 78 95 12 40",
                "atelier-girard.fr",
            ),
            ("Chargé de clientèle", "Cabinet Fontaine", "+33 1 44 56 78 90", "cabinet-fontaine.fr"),
        ],
        "legal": [
            "Ce message et toutes les pièces jointes sont confidentiels et établis à l'intention "
            "exclusive de ses destinataires. Si vous avez reçu ce message par erreur, merci de "
            "le détruire et d'en avertir immédiatement l'expéditeur.",
        ],
        "mobile": ["Envoyé de mon iPhone", "Envoyé depuis mon mobile"],
    },
    "es": {
        "signatures": [
            ("Directora de Compras", "Grupo Navarro S.L.", "+34 913 45 67 89", "grupo-navarro.es"),
            (
                "Coordinación de Proyectos",
                "Estudio Vidal",
                "+54 11 4321 5678",
                "estudio-vidal.com.ar",
            ),
        ],
        "legal": [
            "Este mensaje y sus archivos adjuntos son confidenciales y están dirigidos "
            "exclusivamente a su destinatario. Si lo ha recibido por error, le rogamos que lo "
            "comunique al remitente y lo elimine. Protección de datos: RGPD (UE) 2016/679.",
        ],
        "mobile": ["Enviado desde mi iPhone", "Enviado desde mi móvil Huawei"],
    },
    "it": {
        "signatures": [
            (
                "Responsabile amministrativa",
                "Studio Colombo",
                "+39 02 8765 4321",
                "studio-colombo.it",
            )
        ],
        "legal": [
            "Le informazioni contenute in questo messaggio sono riservate e destinate "
            "esclusivamente al destinatario. Se avete ricevuto questo messaggio per errore, "
            "vogliate cancellarlo e darne notizia al mittente."
        ],
        "mobile": ["Inviato da iPhone"],
    },
    "pt": {
        "signatures": [
            (
                "Gerente de Projetos",
                "Construtora Almeida",
                "+55 11 3456-7890",
                "construtora-almeida.com.br",
            )
        ],
        "legal": [
            "Esta mensagem pode conter informação confidencial. Se a recebeu por engano, "
            "por favor avise o remetente e apague-a."
        ],
        "mobile": ["Enviado do meu iPhone"],
    },
    "nl": {
        "signatures": [
            (
                "Projectleider",
                "Bakker Installatietechniek B.V.",
                "+31 30 234 56 78",
                "bakker-installatie.nl",
            )
        ],
        "legal": [
            "Dit bericht is uitsluitend bestemd voor de geadresseerde. Heeft u dit bericht "
            "per abuis ontvangen, verwijder het dan en stel de afzender op de hoogte."
        ],
        "mobile": ["Verzonden vanaf mijn iPhone"],
    },
}
