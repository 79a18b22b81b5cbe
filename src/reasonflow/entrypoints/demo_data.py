"""A realistic demo inbox: about sixty emails over the last two weeks.

Used by ``make run`` / the CLI to seed a fresh account, and by tests as a
labelled set: each email carries the intent a careful human would give it.
Data only: nothing here performs I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reasonflow.domain.inbox import NewEmail
from reasonflow.domain.model import Intent

DEMO_RECIPIENT = "demo@reasonflow.local"


@dataclass(frozen=True)
class DemoEmail:
    subject: str
    body: str
    sender: str
    expected_intent: Intent
    minutes_ago: int
    thread_id: str | None = None


def demo_inbox(now: datetime) -> list[NewEmail]:
    """The demo emails as they would arrive, received relative to ``now``."""
    return [
        NewEmail(
            subject=e.subject,
            body=e.body,
            sender=e.sender,
            recipient=DEMO_RECIPIENT,
            received_at=now - timedelta(minutes=e.minutes_ago),
            thread_id=e.thread_id,
        )
        for e in DEMO_EMAILS
    ]


_INQUIRIES = (
    DemoEmail(
        subject="Pricing for renewing our Acme Analytics licence",
        body=(
            "Hi there,\n\n"
            "Our annual licence for Acme Analytics comes up for renewal at the end of next "
            "month. We currently have 85 seats on the Business plan and expect to grow to "
            "roughly 120 over the coming year.\n\n"
            "Could you tell me what the renewal pricing would look like for 120 seats? I'd "
            "also like to know whether you offer a discount for a two- or three-year "
            "commitment, and whether SSO is included in Business or only in Enterprise.\n\n"
            "Thanks in advance,\n"
            "Priya Raman\n"
            "Head of Data Operations, Acme Corp"
        ),
        sender="Priya Raman <priya.raman@acmecorp.com>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=19_480,
        thread_id="thread-acme-renewal",
    ),
    DemoEmail(
        subject="Question about API rate limits on the Team plan",
        body=(
            "Hello,\n\n"
            "We're building a nightly sync against your REST API and want to make sure we "
            "stay within the limits. The docs mention 600 requests per minute for the Team "
            "plan, but it isn't clear whether that is per API key or per workspace.\n\n"
            "Is there any burst allowance, and is it possible to raise the limit temporarily "
            "for a one-off backfill of about two million records?\n\n"
            "Best,\nDaniel Okafor\nBrightlane"
        ),
        sender="Daniel Okafor <d.okafor@brightlane.io>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=17_210,
    ),
    DemoEmail(
        subject="Do you support exporting reports to Snowflake?",
        body=(
            "Ciao,\n\n"
            "we are evaluating your platform for our finance team. Most of our reporting "
            "lives in Snowflake, so a native export (or at least a scheduled CSV drop to S3) "
            "would be essential for us.\n\n"
            "Is this something you support today, or is it on the roadmap?\n\n"
            "Grazie mille,\nChiara Bianchi"
        ),
        sender="Chiara Bianchi <chiara.bianchi@tessitura.it>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=15_930,
    ),
    DemoEmail(
        subject="Invoice INV-20931: VAT number question",
        body=(
            "Dear team,\n\n"
            "We received invoice INV-20931 for the March period, thank you. Unfortunately "
            "our VAT identification number (DE 298 114 507) is not shown on it, which our "
            "auditors require for the input tax deduction.\n\n"
            "How can we add the VAT number to our billing profile, and would you be able to "
            "reissue this invoice with it included?\n\n"
            "Kind regards,\nMartin Keller\nAccounts Payable, Globex Logistics GmbH"
        ),
        sender="Martin Keller <accounts@globex-logistics.de>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=14_400,
        thread_id="thread-globex-invoice",
    ),
    DemoEmail(
        subject="Student discount?",
        body=(
            "Hi, is there a discount for students or educators? I'm a grad student and "
            "would be using it for my thesis research.\n\nThanks, Sam"
        ),
        sender="sam.whitfield97@gmail.com",
        expected_intent=Intent.INQUIRY,
        minutes_ago=12_045,
    ),
    DemoEmail(
        subject="Data residency options for EU customers",
        body=(
            "Hej,\n\n"
            "Before we can sign, our DPO has a few questions about where customer data is "
            "stored and processed.\n\n"
            "1. Can we choose EU-only hosting, and which regions are available?\n"
            "2. Are backups also kept inside the EU?\n"
            "3. Do you have a standard DPA that includes the 2021 SCCs?\n\n"
            "If there is a trust centre page that answers these, a link would be perfect.\n\n"
            "Med venlig hilsen,\nSøren Lindqvist\nNordhavn Shipping A/S"
        ),
        sender="Søren Lindqvist <soren.lindqvist@nordhavn.dk>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=10_870,
    ),
    DemoEmail(
        subject="How do I transfer ownership of a workspace?",
        body=(
            "Hello,\n\n"
            "I'm leaving the studio at the end of the month and need to hand our workspace "
            "over to my colleague Aiko. I can't find an option for this in the admin "
            "settings. How do I transfer ownership without losing the billing history?\n\n"
            "Thank you,\nKenji Watanabe"
        ),
        sender="Kenji Watanabe <kenji@watanabe-design.jp>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=8_630,
    ),
    DemoEmail(
        subject="Enquiry: bulk order of 40 ergonomic chairs",
        body=(
            "Good afternoon,\n\n"
            "Meridian Health is refurbishing its Dubai office and we are interested in the "
            "Aeron-style ergonomic chair from your catalogue (model EC-400).\n\n"
            "Could you send us a quote for 40 units, including delivery to Dubai Healthcare "
            "City? We would also like to know the current lead time and whether there are "
            "price breaks above 50 units, as a second floor may follow later this year.\n\n"
            "Regards,\nFatima Al-Sayed\nProcurement Officer"
        ),
        sender="Fatima Al-Sayed <fatima.alsayed@meridianhealth.ae>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=6_410,
    ),
    DemoEmail(
        subject="Can the mobile app work offline?",
        body=(
            "Hi folks,\n\n"
            "Our field inspectors are often out of signal range on farms. Does the mobile app "
            "keep working offline and sync when it reconnects? If so, is there a limit on how "
            "many forms it can store?\n\n"
            "Cheers,\nTom Brennan"
        ),
        sender="Tom Brennan <tom@brennanfield.ie>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=4_220,
    ),
    DemoEmail(
        subject="Question about your SOC 2 report",
        body=(
            "Hi,\n\n"
            "We're completing a vendor security review for QuantumLeaf and one of the items "
            "is a current SOC 2 Type II report.\n\n"
            "Would you be able to share yours under NDA? I'd also like to know whether your "
            "penetration tests are run by a third party and how often.\n\n"
            "Many thanks,\nGrace Liu\nSecurity & Compliance"
        ),
        sender="Grace Liu <grace.liu@quantumleaf.com>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=2_750,
    ),
    DemoEmail(
        subject="Wondering about webhook retries",
        body=(
            "Olá!\n\n"
            "Quick question about webhooks: if our endpoint returns a 503, how many times do "
            "you retry, and with what backoff? Also, are events guaranteed to arrive in "
            "order, or should we sort them by the created timestamp ourselves?\n\n"
            "Obrigado,\nLucas Ferreira\nPagaPronto"
        ),
        sender="Lucas Ferreira <lucas@pagapronto.com.br>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=1_310,
    ),
    DemoEmail(
        subject="Re: Initech kickoff: notes for your records",
        body=(
            "One thing I forgot to ask during the kickoff: do you support SCIM provisioning "
            "from Okta, or only SAML single sign-on? Our IT team would like to automate "
            "deprovisioning when people leave.\n\n"
            "Thanks,\nNina"
        ),
        sender="Nina Petrova <nina.petrova@initech.com>",
        expected_intent=Intent.INQUIRY,
        minutes_ago=545,
        thread_id="thread-initech-onboarding",
    ),
)

_MEETINGS = (
    DemoEmail(
        subject="Re: Pricing for renewing our Acme Analytics licence",
        body=(
            "Thanks, the quote works for us.\n\n"
            "Could we get 30 minutes on a call this Thursday or Friday to finalise the "
            "contract? I'd like our procurement lead, Tom Hughes, to join as well. Send over "
            "a calendar invite for whatever time suits you and I'll make it work.\n\n"
            "Priya"
        ),
        sender="Priya Raman <priya.raman@acmecorp.com>",
        expected_intent=Intent.MEETING_REQUEST,
        minutes_ago=9_410,
        thread_id="thread-acme-renewal",
    ),
    DemoEmail(
        subject="Q3 roadmap planning session",
        body=(
            "Hi all,\n\n"
            "I'd like to set up a 90-minute planning session next week to agree the Q3 "
            "roadmap before the board pack is due.\n\n"
            "Proposed agenda:\n"
            "- Review of Q2 outcomes (15 min)\n"
            "- Top three bets for Q3 (45 min)\n"
            "- Staffing and dependencies (30 min)\n\n"
            "Does Tuesday 10:00-11:30 work for everyone? I'll book the big meeting room and "
            "send the invite once I hear back.\n\n"
            "Elena"
        ),
        sender="Elena Vasquez <elena.vasquez@reasonflow.local>",
        expected_intent=Intent.MEETING_REQUEST,
        minutes_ago=13_020,
        thread_id="thread-q3-planning",
    ),
    DemoEmail(
        subject="Re: Q3 roadmap planning session",
        body=(
            "Tuesday morning clashes with board prep for me. Could we move the session to "
            "Wednesday afternoon, say 2pm to 3:30pm? I'll bring the capacity numbers.\n\n"
            "Marcus"
        ),
        sender="Marcus Chen <marcus.chen@reasonflow.local>",
        expected_intent=Intent.MEETING_REQUEST,
        minutes_ago=12_890,
        thread_id="thread-q3-planning",
    ),
    DemoEmail(
        subject="Partnership intro - 20 min call?",
        body=(
            "Hi,\n\n"
            "I lead partnerships at Larkspur Labs. We build document-processing tooling for "
            "insurance carriers, and several of our customers have asked about an "
            "integration with ReasonFlow.\n\n"
            "Would you be open to a 20-minute intro call in the next couple of weeks to see "
            "whether there's a fit? I'm flexible on timing; feel free to grab any slot on my "
            "calendar.\n\n"
            "Best,\nAisha Mensah\nHead of Partnerships, Larkspur Labs"
        ),
        sender="Aisha Mensah <aisha.mensah@larkspurlabs.com>",
        expected_intent=Intent.MEETING_REQUEST,
        minutes_ago=11_500,
        thread_id="thread-larkspur-partnership",
    ),
    DemoEmail(
        subject="Coffee next time you're in Berlin?",
        body=(
            "Hey!\n\n"
            "Saw on LinkedIn that you'll be at the Berlin product meetup in two weeks. Are you "
            "free for a coffee on the Thursday morning? There's a great place near "
            "Rosenthaler Platz. Would love to catch up and hear how the new job is going.\n\n"
            "Jonas"
        ),
        sender="Jonas Becker <jonas@beckerundsohn.de>",
        expected_intent=Intent.MEETING_REQUEST,
        minutes_ago=9_980,
    ),
    DemoEmail(
        subject="Demo request for our support team",
        body=(
            "Hello,\n\n"
            "We'd like to book a live demo for our customer support leads (six people). "
            "We're particularly interested in the triage and auto-drafting features.\n\n"
            "Ideally sometime next week, Monday to Wednesday, between 9am and 1pm Eastern. "
            "What times do you have available?\n\n"
            "Thank you,\nOlivia Grant\nSupport Operations, Harbor Freight Lines"
        ),
        sender="Olivia Grant <olivia.grant@harborfreightlines.com>",
        expected_intent=Intent.MEETING_REQUEST,
        minutes_ago=7_725,
    ),
    DemoEmail(
        subject="Interview scheduling: Senior Backend Engineer",
        body=(
            "Hi,\n\n"
            "Thank you for applying to Fintrail. We'd like to invite you to a 45-minute "
            "technical interview with two of our engineers.\n\n"
            "Please reply with your availability for next week, or pick a time slot that "
            "works for you using the scheduling link in your candidate portal. The interview "
            "will take place over Google Meet.\n\n"
            "Best regards,\nFintrail Talent Team"
        ),
        sender="Fintrail Talent <talent@fintrail.co>",
        expected_intent=Intent.MEETING_REQUEST,
        minutes_ago=5_540,
    ),
    DemoEmail(
        subject="Quarterly business review - finding a date",
        body=(
            "Hi,\n\n"
            "It's that time again. We'd like to hold our quarterly business review in the "
            "second half of the month, in person at our Leeds office if possible, otherwise "
            "on Teams.\n\n"
            "Could you let me know two or three dates that work on your side? We usually "
            "need about two hours.\n\n"
            "Kind regards,\nHannah Schultz\nVireo Retail"
        ),
        sender="Hannah Schultz <hannah.schultz@vireo-retail.com>",
        expected_intent=Intent.MEETING_REQUEST,
        minutes_ago=3_560,
    ),
    DemoEmail(
        subject="Lunch & learn on observability?",
        body=(
            "Hi,\n\n"
            "Our platform team has been running lunch & learn sessions for other engineering "
            "groups, and we'd be happy to come over and present how we rolled out "
            "OpenTelemetry across 40 services.\n\n"
            "Would a Thursday lunchtime in March suit your team? Let me know a date that works "
            "and we'll bring the slides (and the sandwiches).\n\n"
            "Raj Patel\nCorvid Systems"
        ),
        sender="Raj Patel <raj.patel@corvid.systems>",
        expected_intent=Intent.MEETING_REQUEST,
        minutes_ago=2_105,
    ),
    DemoEmail(
        subject="Can we meet to go over the audit findings?",
        body=(
            "Guten Tag,\n\n"
            "the fieldwork for the annual audit is complete. Before we finalise the report I "
            "would like to walk you through three findings about access reviews and change "
            "management.\n\n"
            "Could we schedule a one-hour meeting this week or early next week? A video call "
            "is fine.\n\n"
            "Mit freundlichen Grüßen,\nZoë Müller\nHartmann Audit GmbH"
        ),
        sender="Zoë Müller <zoe.mueller@hartmann-audit.de>",
        expected_intent=Intent.MEETING_REQUEST,
        minutes_ago=690,
    ),
)

_COMPLAINTS = (
    DemoEmail(
        subject="Dashboard has been down for 3 hours",
        body=(
            "Hi,\n\n"
            "Your dashboard has been returning 502 errors since 9am this morning. Our ops "
            "team can't see any shipments and our status page shows nothing, which makes it "
            "look like we don't know what's going on.\n\n"
            "This is the second outage this month and it is completely unacceptable for a "
            "service we pay this much for. Please fix this urgently and tell us what "
            "happened.\n\n"
            "Carlos Mendoza\nOperations Director, Northwind Traders"
        ),
        sender="Carlos Mendoza <carlos.mendoza@northwindtraders.com>",
        expected_intent=Intent.COMPLAINT,
        minutes_ago=18_060,
        thread_id="thread-northwind-outage",
    ),
    DemoEmail(
        subject="Re: Dashboard has been down for 3 hours",
        body=(
            "It has now been six hours and it is still not working. Nobody from your side "
            "has called us back.\n\n"
            "I want this escalated to someone senior, and I expect a service credit under "
            "our SLA. We are seriously reconsidering the contract.\n\n"
            "Carlos"
        ),
        sender="Carlos Mendoza <carlos.mendoza@northwindtraders.com>",
        expected_intent=Intent.COMPLAINT,
        minutes_ago=17_880,
        thread_id="thread-northwind-outage",
    ),
    DemoEmail(
        subject="Charged twice for my subscription",
        body=(
            "Hello,\n\n"
            "I was charged twice for my Pro subscription this month: two payments of $49 on "
            "the 3rd, both visible on my card statement. I only have one account.\n\n"
            "Please refund the duplicate charge as soon as possible. I'm really disappointed "
            "that this happened without any notice.\n\n"
            "Emily Carter"
        ),
        sender="Emily Carter <emily.carter83@outlook.com>",
        expected_intent=Intent.COMPLAINT,
        minutes_ago=16_420,
    ),
    DemoEmail(
        subject="Damaged package - order #A-55812",
        body=(
            "Dzień dobry,\n\n"
            "My order #A-55812 arrived today and the box was crushed. The monitor inside has "
            "a cracked screen and will not turn on. I have photos of the packaging and the "
            "damage.\n\n"
            "I would like a replacement or a full refund. I'm very unhappy, as I paid extra "
            "for express delivery.\n\n"
            "Łukasz Nowak"
        ),
        sender="Łukasz Nowak <lukasz.nowak@wp.pl>",
        expected_intent=Intent.COMPLAINT,
        minutes_ago=14_980,
    ),
    DemoEmail(
        subject="Extremely poor support experience",
        body=(
            "To whom it may concern,\n\n"
            "I have been a customer for four years and I have never been treated this "
            "badly. I opened a ticket about our site builder losing changes, and over the "
            "past ten days I have been passed between four different agents, each of whom "
            "asked me to repeat the same steps.\n\n"
            "Yesterday an agent closed the ticket as 'resolved' without a word to me. The "
            "problem is not resolved. We lost two days of work on a client's site because "
            "of this bug.\n\n"
            "I am frustrated and frankly disappointed. I expect a proper response from a "
            "manager, not another template.\n\n"
            "Derek Holloway\nHolloway Builds"
        ),
        sender="Derek Holloway <derek@hollowaybuilds.com>",
        expected_intent=Intent.COMPLAINT,
        minutes_ago=13_650,
    ),
    DemoEmail(
        subject="Your latest update broke our Slack integration",
        body=(
            "Hi,\n\n"
            "Since yesterday's release, none of our alerts reach Slack anymore. The "
            "integration page says 'connected' but nothing is delivered, and reconnecting "
            "doesn't help. We rely on these alerts for on-call.\n\n"
            "This is the second time an update has broken something without warning. "
            "Please roll it back or fix it today.\n\n"
            "Mei Tanaka\nKumo Studio"
        ),
        sender="Mei Tanaka <mei.tanaka@kumo-studio.jp>",
        expected_intent=Intent.COMPLAINT,
        minutes_ago=11_020,
    ),
    DemoEmail(
        subject="Still no refund after 5 weeks",
        body=(
            "Hello,\n\n"
            "Five weeks ago I returned the headphones (RMA 77314) and your own tracking shows "
            "they were received on the 2nd. I have still not received my refund of EUR 189.\n\n"
            "I have emailed three times and every reply promises the money 'within 5 "
            "business days'. This is unacceptable. If the refund is not processed this week I "
            "will file a dispute with my bank.\n\n"
            "Ahmed Hassan"
        ),
        sender="Ahmed Hassan <ahmed.hassan@gmail.com>",
        expected_intent=Intent.COMPLAINT,
        minutes_ago=8_150,
    ),
    DemoEmail(
        subject="Cancel my account - billing nightmare",
        body=(
            "I upgraded to the annual plan by mistake, contacted you within an hour, and was "
            "told it could not be reversed. Now I've been billed again for the monthly plan "
            "on top of it.\n\n"
            "Please cancel my account and refund the annual charge. This has been a terrible "
            "experience.\n\n"
            "Rebecca Stone"
        ),
        sender="Rebecca Stone <rstone@stonefamilyfarm.com>",
        expected_intent=Intent.COMPLAINT,
        minutes_ago=5_060,
    ),
    DemoEmail(
        subject="Wrong items delivered again",
        body=(
            "Bonjour,\n\n"
            "For the second week in a row the delivery for Bistro Lumière was wrong: we "
            "ordered 12 kg of Charlotte potatoes and received 12 kg of onions, and the crème "
            "fraîche was missing entirely.\n\n"
            "We had to close part of the menu on Friday night. This is not acceptable for a "
            "supplier we depend on. I expect a credit for both deliveries.\n\n"
            "François Dubois\nChef-propriétaire, Bistro Lumière"
        ),
        sender="François Dubois <francois.dubois@bistro-lumiere.fr>",
        expected_intent=Intent.COMPLAINT,
        minutes_ago=3_010,
    ),
    DemoEmail(
        subject="Complaint about your technician's behaviour",
        body=(
            "I am writing to complain about the technician who came to install our internet "
            "on Tuesday. He arrived two hours late, was rude to my elderly mother, and left "
            "cables lying across the hallway.\n\n"
            "I would like an apology and for someone to come back and finish the job "
            "properly.\n\n"
            "Gloria Ramirez"
        ),
        sender="Gloria Ramirez <gloria.ramirez@yahoo.com>",
        expected_intent=Intent.COMPLAINT,
        minutes_ago=400,
    ),
)

_FOLLOW_UPS = (
    DemoEmail(
        subject="Re: Pricing for renewing our Acme Analytics licence",
        body=(
            "Hi,\n\n"
            "Just following up on my note from last week: any update on the renewal quote? "
            "Our budget for next year closes on the 30th, so I need the numbers before then.\n\n"
            "Thanks,\nPriya"
        ),
        sender="Priya Raman <priya.raman@acmecorp.com>",
        expected_intent=Intent.FOLLOW_UP,
        minutes_ago=12_300,
        thread_id="thread-acme-renewal",
    ),
    DemoEmail(
        subject="Re: Invoice INV-20931: VAT number question",
        body=(
            "Dear team,\n\n"
            "Checking in on this: we still need the corrected invoice before we can release "
            "payment. Could you let me know when to expect it?\n\n"
            "Kind regards,\nMartin Keller"
        ),
        sender="Martin Keller <accounts@globex-logistics.de>",
        expected_intent=Intent.FOLLOW_UP,
        minutes_ago=7_230,
        thread_id="thread-globex-invoice",
    ),
    DemoEmail(
        subject="Re: Partnership intro - 20 min call?",
        body=(
            "Thanks again for the call yesterday, it was great to learn more about your "
            "roadmap.\n\n"
            "As promised, I've attached our integration deck and the sample API spec. To "
            "recap the next steps we agreed:\n"
            "1. We share a sandbox account with your team (done, see below).\n"
            "2. Your engineers review the spec by the end of the month.\n"
            "3. We reconvene once both sides have a rough estimate.\n\n"
            "Sandbox: https://sandbox.larkspurlabs.com, user partner-reasonflow.\n\n"
            "Aisha"
        ),
        sender="Aisha Mensah <aisha.mensah@larkspurlabs.com>",
        expected_intent=Intent.FOLLOW_UP,
        minutes_ago=6_840,
        thread_id="thread-larkspur-partnership",
    ),
    DemoEmail(
        subject="Following up on our proposal",
        body=(
            "Hi,\n\n"
            "I wanted to follow up on the content marketing proposal I sent over on the 4th. "
            "Have you had a chance to review it with your team?\n\n"
            "Happy to adjust the scope or the timeline if that helps.\n\n"
            "Best,\nIsabella Rossi\nLumen Marketing"
        ),
        sender="Isabella Rossi <isabella.rossi@lumenmarketing.co>",
        expected_intent=Intent.FOLLOW_UP,
        minutes_ago=15_210,
    ),
    DemoEmail(
        subject="Gentle reminder: signed NDA",
        body=(
            "Dear colleague,\n\n"
            "A gentle reminder that we are still waiting for the countersigned mutual NDA we "
            "sent on Monday. Our client cannot share the technical documents until it is in "
            "place.\n\n"
            "Many thanks,\nOliver Bennett\nCresthaven Legal LLP"
        ),
        sender="Oliver Bennett <oliver.bennett@cresthaven.law>",
        expected_intent=Intent.FOLLOW_UP,
        minutes_ago=10_120,
    ),
    DemoEmail(
        subject="Checking in - feature request #482",
        body=(
            "Oi!\n\n"
            "Just checking in on feature request #482 (bulk editing of tags). Last time we "
            "spoke you mentioned it might land this quarter. Is that still the plan?\n\n"
            "Abraços,\nAna Souza"
        ),
        sender="Ana Souza <ana.souza@verdemar.com.br>",
        expected_intent=Intent.FOLLOW_UP,
        minutes_ago=8_890,
    ),
    DemoEmail(
        subject="Circling back on the integration timeline",
        body=(
            "Hi,\n\n"
            "Circling back on the integration timeline we discussed a few weeks ago. We "
            "haven't heard back since the scoping call and our leadership is asking where "
            "things stand.\n\n"
            "Could you send a short status update?\n\n"
            "Michael O'Connor\nTidewater"
        ),
        sender="Michael O'Connor <michael.oconnor@tidewater.io>",
        expected_intent=Intent.FOLLOW_UP,
        minutes_ago=4_680,
    ),
    DemoEmail(
        subject="Any update on my support ticket?",
        body=(
            "Hi,\n\n"
            "I opened ticket #99120 about the CSV import last Tuesday and haven't heard back "
            "yet. No rush, I just wanted to make sure it didn't fall through the cracks.\n\n"
            "Thanks!\nPriyanka"
        ),
        sender="Priyanka Desai <priyanka.desai@gmail.com>",
        expected_intent=Intent.FOLLOW_UP,
        minutes_ago=2_440,
    ),
    DemoEmail(
        subject="Next steps after Tuesday's workshop",
        body=(
            "Konnichiwa,\n\n"
            "Thank you for hosting us on Tuesday. As discussed, here is a recap of what we "
            "agreed:\n\n"
            "- Sakura Pay will send the anonymised transaction sample by Friday.\n"
            "- Your team will run the classification benchmark on it.\n"
            "- We will review the results together and decide on a pilot.\n\n"
            "Please let me know if I missed anything.\n\n"
            "Hiroshi Yamamoto\nSakura Pay"
        ),
        sender="Hiroshi Yamamoto <h.yamamoto@sakura-pay.jp>",
        expected_intent=Intent.FOLLOW_UP,
        minutes_ago=1_620,
    ),
    DemoEmail(
        subject="Re: Dashboard has been down for 3 hours",
        body=(
            "Thanks, the dashboard is back and the team can work again.\n\n"
            "Following up on your message from last night: you promised a post-incident "
            "report and confirmation of the SLA credit by today. Could you send both over?\n\n"
            "Carlos"
        ),
        sender="Carlos Mendoza <carlos.mendoza@northwindtraders.com>",
        expected_intent=Intent.FOLLOW_UP,
        minutes_ago=16_950,
        thread_id="thread-northwind-outage",
    ),
)

_SPAM = (
    DemoEmail(
        subject="CONGRATULATIONS!!! You've WON $2,500,000",
        body=(
            "Dear Lucky Winner,\n\n"
            "Your email address has been selected in the INTERNATIONAL E-MAIL LOTTERY "
            "PROGRAMME and you have won the sum of $2,500,000 USD!!!\n\n"
            "To claim your prize, reply with your full name, address, phone number and bank "
            "details to our claims agent. A small processing fee of $250 applies.\n\n"
            "ACT NOW: unclaimed prizes are returned after 7 days."
        ),
        sender="International Lottery Board <claims@global-lotto-winners.xyz>",
        expected_intent=Intent.SPAM,
        minutes_ago=18_900,
    ),
    DemoEmail(
        subject="Double your Bitcoin in 7 days - guaranteed",
        body=(
            "Our AI trading bot has doubled the crypto holdings of 12,000 investors this "
            "year. 100% risk-free, guaranteed returns.\n\n"
            "Send any amount of BTC to the wallet below and receive double back within 7 "
            "days. Limited spots available, click here to join the VIP program."
        ),
        sender="CryptoMax Profits <vip@cryptomax-profits.top>",
        expected_intent=Intent.SPAM,
        minutes_ago=16_010,
    ),
    DemoEmail(
        subject="URGENT BUSINESS PROPOSAL",
        body=(
            "Dear Friend,\n\n"
            "I am Barrister James Okoro, personal attorney to the late Mr. Richard Collins, "
            "who died in a car accident leaving the sum of US$15.5 million in a bank "
            "account with no next of kin.\n\n"
            "I am seeking your consent to present you as the beneficiary of this "
            "inheritance. You will receive 40% of the total sum. Kindly reply with your "
            "bank details and a copy of your passport so that the transfer can begin.\n\n"
            "Strictly confidential.\nBarrister James Okoro"
        ),
        sender="Barrister James Okoro <jamesokoro.chambers@mail-online.biz>",
        expected_intent=Intent.SPAM,
        minutes_ago=13_340,
    ),
    DemoEmail(
        subject="Get your website to page #1 of Google in 30 days",
        body=(
            "Hi,\n\n"
            "I was checking your website and noticed it is not ranking for many important "
            "keywords. Our SEO experts can get you on the first page of Google with "
            "high-quality backlinks, guaranteed.\n\n"
            "Special offer this month only: full SEO audit for $99. Reply YES to get "
            "started.\n\n"
            "Regards,\nMark | Rank Experts"
        ),
        sender="Rank Experts <growth@seo-rankexperts.click>",
        expected_intent=Intent.SPAM,
        minutes_ago=10_400,
    ),
    DemoEmail(
        subject="Your mailbox will be suspended: verify your account",
        body=(
            "Dear user,\n\n"
            "Your mailbox has exceeded its storage quota and will be suspended within 24 "
            "hours. To avoid losing your messages, verify your account now by clicking the "
            "link below and entering your password.\n\n"
            "http://mailbox-secure-verify.com/login\n\n"
            "IT Helpdesk"
        ),
        sender="IT Helpdesk <support@mailbox-secure-verify.com>",
        expected_intent=Intent.SPAM,
        minutes_ago=7_950,
    ),
    DemoEmail(
        subject="Cheap meds online - no prescription needed",
        body=(
            "Viagra, Cialis, weight loss pills and more at 80% off. No prescription "
            "needed, discreet worldwide shipping.\n\n"
            "Order today and get 10 free pills. Click here to visit our online pharmacy."
        ),
        sender="Online Pharmacy <deals@rx-discount-pharma.top>",
        expected_intent=Intent.SPAM,
        minutes_ago=5_890,
    ),
    DemoEmail(
        subject="You have been selected for a $500 Amazon gift card",
        body=(
            "Congratulations! You have been selected to receive a $500 Amazon gift card as "
            "a thank-you for being a loyal customer.\n\n"
            "Complete our 30-second survey to claim your reward. This exclusive offer "
            "expires tonight at midnight."
        ),
        sender="Rewards Center <rewards@customer-survey-prize.win>",
        expected_intent=Intent.SPAM,
        minutes_ago=3_830,
    ),
    DemoEmail(
        subject="Work from home and earn $750 per day!!",
        body=(
            "Hello,\n\n"
            "Are you tired of your 9-5? Our members earn $750 per day working from home "
            "only 2 hours a day. No experience needed!\n\n"
            "Spots are limited. Reply now to get your FREE starter kit."
        ),
        sender="Jessica <jessica.jobs2024@gmail.com>",
        expected_intent=Intent.SPAM,
        minutes_ago=2_290,
    ),
    DemoEmail(
        subject="Exclusive offer: 90% off designer watches",
        body=(
            "Luxury watches from the top brands at up to 90% off retail price. Limited time "
            "only: buy one, get one free!\n\n"
            "Shop now before stock runs out. To unsubscribe, click here."
        ),
        sender="Luxury Outlet <promo@luxe-watch-deals.shop>",
        expected_intent=Intent.SPAM,
        minutes_ago=180,
    ),
)

_OTHER = (
    DemoEmail(
        subject="Your order has shipped",
        body=(
            "Good news! Your order #NB-448120 has shipped.\n\n"
            "Items: 'Designing Data-Intensive Applications' (1), 'The Mythical Man-Month' "
            "(1)\n"
            "Carrier: DHL Express, tracking number 1Z 999 AA1 01 2345 6784\n"
            "Estimated delivery: Thursday\n\n"
            "This is an automated message, please do not reply."
        ),
        sender="Northbound Books <noreply@northboundbooks.com>",
        expected_intent=Intent.OTHER,
        minutes_ago=19_020,
    ),
    DemoEmail(
        subject="Automatic reply: Out of office until 14 March",
        body=(
            "Bonjour,\n\n"
            "I am out of the office until 14 March with limited access to email. For urgent "
            "matters please contact my colleague Julien Moreau (julien.moreau@atelier-"
            "laurent.fr).\n\n"
            "Merci,\nSophie Laurent"
        ),
        sender="Sophie Laurent <sophie.laurent@atelier-laurent.fr>",
        expected_intent=Intent.OTHER,
        minutes_ago=15_540,
    ),
    DemoEmail(
        subject="The Platform Weekly - issue #212",
        body=(
            "This week in platform engineering:\n\n"
            "- Why we moved our queues from Kafka to Postgres (and back again)\n"
            "- A field guide to SLOs for small teams\n"
            "- Interview: running Kubernetes at a 12-person startup\n\n"
            "Thanks for reading. You are receiving this newsletter because you subscribed "
            "at platformweekly.dev. Unsubscribe or manage your preferences at any time."
        ),
        sender="The Platform Weekly <newsletter@platformweekly.dev>",
        expected_intent=Intent.OTHER,
        minutes_ago=14_050,
    ),
    DemoEmail(
        subject="Office closed on Monday for the public holiday",
        body=(
            "Hi everyone,\n\n"
            "Just a heads-up that the office will be closed on Monday for the public holiday. "
            "The on-call rota is unchanged, and normal hours resume on Tuesday.\n\n"
            "No action required.\n\n"
            "People Team"
        ),
        sender="People Team <people@reasonflow.local>",
        expected_intent=Intent.OTHER,
        minutes_ago=11_870,
    ),
    DemoEmail(
        subject="Initech kickoff: notes for your records",
        body=(
            "Hi,\n\n"
            "For your records, here are the notes from today's kickoff:\n\n"
            "- Rollout starts with the finance and HR mailboxes (about 60 users).\n"
            "- Our admin contact is Peter Gibbons; billing contact is Joanna Smith.\n"
            "- Go-live target: the first Monday of next month.\n\n"
            "Nothing needed from you right now, this is just so everything is in one place.\n\n"
            "Nina Petrova\nIT Manager, Initech"
        ),
        sender="Nina Petrova <nina.petrova@initech.com>",
        expected_intent=Intent.OTHER,
        minutes_ago=1_890,
        thread_id="thread-initech-onboarding",
    ),
    DemoEmail(
        subject="Your receipt from Parcelly (#2291-8841)",
        body=(
            "Receipt #2291-8841\n\n"
            "Parcelly Business plan, monthly: $29.00\n"
            "Paid with Visa ending 4242 on the 12th.\n\n"
            "You can download a PDF copy of this receipt from your billing page."
        ),
        sender="Parcelly <receipts@parcelly.com>",
        expected_intent=Intent.OTHER,
        minutes_ago=9_150,
    ),
    DemoEmail(
        subject="Thank you!",
        body=(
            "Dear all,\n\n"
            "I just wanted to say a heartfelt thank you for the flowers and the lovely card "
            "after my surgery. It meant a great deal to me and my family. I'm recovering well "
            "and hope to see you all soon.\n\n"
            "With warm wishes,\nMargaret"
        ),
        sender="Margaret Ellison <margaret.ellison@ellison-family.net>",
        expected_intent=Intent.OTHER,
        minutes_ago=6_020,
    ),
    DemoEmail(
        subject="Release notes: Stackwell 4.2",
        body=(
            "Stackwell 4.2 is now available.\n\n"
            "New:\n"
            "- Branch previews for every pull request\n"
            "- Faster cold starts on the ARM runtime\n\n"
            "Fixed:\n"
            "- Log streaming occasionally dropped the last line\n\n"
            "Read the full changelog on our blog."
        ),
        sender="Stackwell Updates <updates@stackwell.dev>",
        expected_intent=Intent.OTHER,
        minutes_ago=4_950,
    ),
    DemoEmail(
        subject="Security alert: new sign-in to your account",
        body=(
            "We noticed a new sign-in to your Keystone ID account.\n\n"
            "Device: Firefox on Ubuntu\n"
            "Location: Lisbon, Portugal\n"
            "Time: 08:14 UTC\n\n"
            "If this was you, you can ignore this message. If not, you can review your "
            "recent activity from the security page in your account settings."
        ),
        sender="Keystone ID <no-reply@keystoneid.com>",
        expected_intent=Intent.OTHER,
        minutes_ago=980,
    ),
)

#: Ordered by intent; ``demo_inbox`` stamps each with its own received time.
DEMO_EMAILS: tuple[DemoEmail, ...] = (
    *_INQUIRIES,
    *_MEETINGS,
    *_COMPLAINTS,
    *_FOLLOW_UPS,
    *_SPAM,
    *_OTHER,
)
