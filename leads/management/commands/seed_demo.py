"""Demo data: a sales team, one login per role, and a few hundred leads with history.

Idempotent: users, team and reasons are ensured on every run; leads are only
generated when the demo team has none yet. Every lead is walked through the real
transition functions with ``now=`` in the past, so its history is consistent.
"""

import random
from datetime import date, timedelta
from datetime import time as datetime_time

from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from leads import activities, jobs, reference_data, sla, transitions
from leads.models import (
    Activity,
    BusinessHours,
    Holiday,
    Lead,
    OutboxMessage,
    RejectionReason,
    ScoringConfig,
    ScoringRule,
    ScoringRun,
    SLAPolicy,
    Stage,
    Team,
    TeamMember,
    UserProfile,
)
from reports.models import MonthlyTarget

DEMO_PASSWORD = "funnel-demo"
TEAM_NAME = "Demo Sales"

PEOPLE = [
    # username, first, last, role, team role
    ("rep", "Rita", "Reyes", "rep", TeamMember.Role.REP),
    ("rep2", "Sam", "Okafor", "rep", TeamMember.Role.REP),
    ("rep3", "Lena", "Novak", "rep", TeamMember.Role.REP),
    ("manager", "Mona", "Schulz", "manager", TeamMember.Role.MANAGER),
    ("marketer", "Mark", "Lindqvist", "marketer", None),
    ("admin", "Ada", "Admin", "admin", None),
]
# Who reads Funnel in German, in Berlin; everyone else gets the browser's language and,
# at the first sign-in, the browser's time zone.
GERMAN = {"rep3": "Europe/Berlin", "manager": "Europe/Berlin"}

FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elif",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kofi",
    "Laura",
    "Mateo",
    "Nina",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Stefan",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Xenia",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Adams",
    "Berger",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Olsen",
    "Petrov",
    "Quinn",
    "Rossi",
    "Svensson",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Yilmaz",
    "Zimmer",
]
COMPANIES = [
    ("Northwind Logistics", 850, "DE"),
    ("Globex Manufacturing", 4200, "US"),
    ("Initech Software", 120, "US"),
    ("Umbrella Health", 2300, "GB"),
    ("Stark Analytics", 60, "FR"),
    ("Wayne Components", 15000, "US"),
    ("Tyrell Biotech", 340, "NL"),
    ("Cyberdyne Robotics", 95, "SE"),
    ("Soylent Foods", 1800, "ES"),
    ("Hooli Cloud", 7200, "US"),
    ("Vandelay Imports", 25, "IT"),
    ("Massive Dynamic", 980, "CA"),
    ("Acme Retail", 3100, "DE"),
    ("Oscorp Energy", 640, "AT"),
    ("Pied Piper", 18, "US"),
]
TITLES = [
    "CEO",
    "CTO",
    "VP Sales",
    "Head of Marketing",
    "IT Manager",
    "Operations Director",
    "Procurement Lead",
    "Data Analyst",
    "Student",
    "Marketing Intern",
    "CFO",
    "Head of Revenue Operations",
]
SOURCES = {
    "webinar": ["Q3 Pipeline Webinar", "Data Ops Live"],
    "paid-search": ["Brand Search", "Competitor Keywords"],
    "organic": ["Blog", ""],
    "event": ["SaaS Summit Berlin"],
    "content": ["State of RevOps Report", "ROI Calculator"],
    "referral": [""],
}
REJECT_NOTES = {
    "missing-phone": "No phone number and no reply to two e-mails.",
    "personal-email": "Signed up with a gmail address, no company found.",
    "no-budget": "Budget frozen until next fiscal year.",
    "not-decision-maker": "Researching tools for their manager; no buying power.",
    "student-job-seeker": "Student writing a thesis about CRM tools.",
    "no-interest": "Downloaded the report for research; no project planned.",
    "competitor": "Works for a direct competitor.",
    "duplicate": "Same person as an existing opportunity.",
    "company-too-small": "Two-person agency, below our minimum.",
}
# Titles that buy, and titles that never do: a rejection's reason has to fit the person.
SENIOR_WORDS = ("ceo", "cto", "cfo", "vp", "head of", "director")
JUNIOR_TITLES = {"Student": ["student-job-seeker"], "Marketing Intern": ["not-decision-maker", "student-job-seeker"]}


def fitting_reasons(lead):
    """Rejection reasons a rep would plausibly give this lead: its title, phone and company size decide."""
    if lead.job_title in JUNIOR_TITLES:
        return JUNIOR_TITLES[lead.job_title]
    if not lead.phone:
        return ["missing-phone"]
    reasons = ["no-budget", "no-interest", "duplicate", "competitor"]
    if lead.company_size_high is not None and lead.company_size_high < 50:
        reasons += ["company-too-small"] * 2
    if not any(word in lead.job_title.lower() for word in SENIOR_WORDS):
        reasons += ["not-decision-maker"] * 2
    return reasons


ACTIVITY_NOTES = {
    "call": "Intro call, discussed current process.",
    "email": "Sent case study and pricing overview.",
    "meeting": "Discovery meeting with the team.",
    "conversation": "Talked through requirements and timeline.",
}


SCORING_RULES = [
    # name, points, cap, conditions (a behaviour rule may have a half_life_days)
    ("Title contains CEO", 30, None, {"field": "job_title", "operator": "contains", "value": "ceo"}),
    ("Title contains CTO or CFO", 25, None, {"field": "job_title", "operator": "one_of", "value": "CTO, CFO"}),
    (
        "VP, Head of or Director",
        15,
        None,
        {"field": "job_title", "operator": "contains_any", "value": "VP, Vice President, Head of, Director"},
    ),
    (
        "50-5000 employees",
        20,
        None,
        {"field": "company_size", "operator": "between", "min_value": 50, "max_value": 5000},
    ),
    ("DACH region", 10, None, {"field": "country", "operator": "one_of", "value": "DE, AT, CH"}),
    (
        "Student or intern",
        -30,
        None,
        {"field": "job_title", "operator": "one_of", "value": "Student, Marketing Intern"},
    ),
    ("Free-mail address", -40, None, {"field": "email_domain", "operator": "free_mail"}),
    # Interest fades: a pricing visit or a click from last quarter says less than this week's.
    (
        "Visited /pricing",
        15,
        45,
        {"activity_kind": "website_visit", "url_contains": "/pricing", "half_life_days": 30},
    ),
    ("Visited /careers (job seeker)", -10, 20, {"activity_kind": "website_visit", "url_contains": "/careers"}),
    ("Attended a webinar", 25, 50, {"activity_kind": "webinar"}),
    ("Downloaded content", 10, 30, {"activity_kind": "content_download"}),
    ("Filled in a form", 20, 40, {"activity_kind": "form_completion"}),
    ("E-mail click-through", 5, 20, {"activity_kind": "email_click", "half_life_days": 14}),
    ("Social interaction", 3, 9, {"activity_kind": "social"}),
]

HEAVY_BEHAVIOUR = (
    (4, 9),
    [
        ("website_visit", "https://funnel.example/pricing"),
        ("website_visit", "https://funnel.example/pricing/enterprise"),
        ("webinar", ""),
        ("content_download", "https://funnel.example/reports/state-of-revops"),
        ("form_completion", "https://funnel.example/demo"),
        ("email_click", "https://funnel.example/newsletter"),
        ("website_visit", "https://funnel.example/product"),
    ],
)
LIGHT_BEHAVIOUR = (
    (0, 3),
    [
        ("website_visit", "https://funnel.example/blog/lead-scoring"),
        ("website_visit", "https://funnel.example/careers"),
        ("email_click", "https://funnel.example/newsletter"),
        ("social", ""),
    ],
)


def login_lines():
    """The demo logins, one line per person, under a heading with the shared password."""
    return [
        f"Demo logins (password for all: {DEMO_PASSWORD})",
        *(
            f"  {role:<9} {username:<9} {first} {last}" + (" (Deutsch)" if username in GERMAN else "")
            for username, first, last, role, _ in PEOPLE
        ),
    ]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print one login per role."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=300, help="How many leads to generate (default 300).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for repeatable demo data.")
        parser.add_argument(
            "--no-logins", action="store_true", help="Do not print the logins (make run prints them once it serves)."
        )

    def handle(self, *args, leads, seed, no_logins, **options):
        if leads < 0 or leads > 100_000:
            self.stderr.write("--leads must be between 0 and 100000")
            raise SystemExit(2)
        with transaction.atomic():
            reference_data.ensure_roles(Group, Permission)
            reference_data.ensure_reasons(RejectionReason)
            reference_data.ensure_default_policy(SLAPolicy)
            team, users = self.ensure_people()
            self.ensure_sla_and_scoring()
        if Lead.objects.filter(team=team).exists():
            self.stdout.write(f"demo data already present ({Lead.objects.count()} leads)")
        else:
            with transaction.atomic():
                created = self.generate_leads(team, users, count=leads, rng=random.Random(seed))
                # The story's unanswered MQLs are past due by now: flag them as the sweep would have.
                sla.flag_overdue_leads()
                # The history is made up: nobody is to be e-mailed about it.
                OutboxMessage.objects.filter(sent_at__isnull=True).delete()
            # Scored as the story went, decayed to today by a real rescore: the matrix shows no pending changes.
            run = ScoringRun.objects.create(total=Lead.objects.filter(erased_at__isnull=True).count())
            run = jobs.rescore_leads(run.pk)
            self.stdout.write(f"generated {created} demo leads with their history (rescore: {run.changed} decayed)")
        if not no_logins:
            self.stdout.write("\n".join(["", *login_lines(), ""]))

    def ensure_people(self):
        team, _ = Team.objects.get_or_create(name=TEAM_NAME)
        users = {}
        for username, first, last, role, team_role in PEOPLE:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@funnel.example"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
            user.is_staff = role == "admin"
            user.is_superuser = role == "admin"
            user.save()
            user.groups.add(Group.objects.get(name=role))
            if team_role:
                TeamMember.objects.get_or_create(team=team, user=user, defaults={"role": team_role})
            if username in GERMAN:
                UserProfile.objects.get_or_create(user=user, defaults={"language": "de", "time_zone": GERMAN[username]})
            users[username] = user
        return team, users

    def ensure_sla_and_scoring(self):
        """A business-hours SLA for webinar leads, the scoring matrix, threshold and monthly targets."""
        office, _ = BusinessHours.objects.get_or_create(
            name="Berlin office",
            defaults={"time_zone": "Europe/Berlin", "opens": datetime_time(9), "closes": datetime_time(17)},
        )
        for day, name in [((12, 24), "Christmas Eve"), ((12, 25), "Christmas Day"), ((12, 26), "Boxing Day")]:
            for year in (2026, 2027):
                Holiday.objects.get_or_create(business_hours=office, date=date(year, *day), defaults={"name": name})
        SLAPolicy.objects.get_or_create(
            name="Webinar leads: 4 business hours",
            defaults={
                "position": 10,
                "source": "webinar",
                "response_minutes": 240,
                "business_hours": office,
                "reassign_on_breach": True,
                "reassign_after_minutes": 60,
            },
        )
        if not ScoringRule.objects.exists():
            for name, points, cap, fields in SCORING_RULES:
                category = (
                    ScoringRule.Category.BEHAVIOUR if "activity_kind" in fields else ScoringRule.Category.DEMOGRAPHIC
                )
                ScoringRule.objects.create(name=name, category=category, points=points, cap=cap, **fields)
        ScoringConfig.current()
        today = timezone.now().date()
        month = today.replace(day=1)
        for back in range(4):
            first = (month - timedelta(days=28 * back)).replace(day=1)
            MonthlyTarget.objects.get_or_create(month=first, team=None, defaults={"mql_target": 80})

    def generate_leads(self, team, users, *, count, rng):
        marketer = users["marketer"]
        manager = users["manager"]
        reps = [users["rep"], users["rep2"], users["rep3"]]
        by_username = {u.pk: u for u in reps}
        real_now = timezone.now()
        created = 0
        for index in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company, size, country = rng.choice(COMPANIES)
            source = rng.choice(list(SOURCES))
            # The newest 25 leads arrive in the last few hours, so the queues have live countdowns.
            if index < 25:
                born = real_now - timedelta(minutes=rng.randint(5, 300))
            else:
                born = real_now - timedelta(days=rng.uniform(0.3, 90))
            domain = company.lower().replace(" ", "") + ".example"
            lead = transitions.create_lead(
                by=marketer,
                now=born,
                name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}.{index}@{domain}",
                phone=f"+49 30 {rng.randint(1000000, 9999999)}" if rng.random() > 0.15 else "",
                company=company,
                job_title=rng.choice(TITLES),
                company_size=size,
                country=country,
                source=source,
                campaign=rng.choice(SOURCES[source]),
                team=team,
            )
            created += 1
            if index >= 25 and rng.random() < 0.2:
                # Stays in nurture: a little engagement, not enough to become an MQL.
                self.engage(lead, born, real_now, rng, heavy=False)
                continue
            mql_at = born + timedelta(minutes=rng.randint(30, 60 * 24 * 10)) if index >= 25 else born
            mql_at = min(mql_at, real_now - timedelta(minutes=rng.randint(5, 200)) if index < 25 else real_now)
            if mql_at <= born:
                mql_at = born + timedelta(seconds=1)
            if index >= 25:
                lead = self.engage(lead, born, mql_at, rng, heavy=rng.random() < 0.7)
            if lead.stage == Stage.LEAD:
                # Not (yet) over the threshold: marketing hands it over by hand.
                lead = transitions.promote_to_mql(lead, by=marketer, now=mql_at, note="Hand-picked after a call.")
            owner = by_username.get(lead.owner_id) or manager
            self.play_out(lead, owner, manager, marketer, reps, rng, real_now, fresh=index < 25)
        return created

    def engage(self, lead, start, end, rng, *, heavy):
        """Marketing behaviour between ``start`` and ``end``; scoring may promote the lead on the way."""
        span = (end - start).total_seconds()
        if span <= 60:
            return lead
        plan = HEAVY_BEHAVIOUR if heavy else LIGHT_BEHAVIOUR
        moments = sorted(start + timedelta(seconds=rng.uniform(30, span - 1)) for _ in range(rng.randint(*plan[0])))
        for at in moments:
            kind, url = rng.choice(plan[1])
            activity = Activity.objects.create(lead=lead, kind=kind, url=url, occurred_at=at, created_at=at)
            lead = activities.apply_activities([activity], now=at)[lead.pk]
            if lead.stage != Stage.LEAD:
                break
        return lead

    def play_out(self, lead, owner, manager, marketer, reps, rng, real_now, *, fresh):
        """Walk an MQL through a plausible sales story, never past the real present."""
        now = lead.mql_at

        def later(low_minutes, high_minutes):
            nonlocal now
            now = now + timedelta(minutes=rng.randint(low_minutes, high_minutes))
            return now if now <= real_now else None

        if fresh or rng.random() < 0.12:
            return  # still waiting in the queue (some of the older ones are ignored)
        if rng.random() < 0.15 and later(10, 240):
            transitions.log_activity(lead, by=owner, kind=rng.choice(["call", "email"]), now=now)
        response = later(5, 60 * 30)
        if response is None:
            return
        if rng.random() < 0.25:
            code = rng.choice(fitting_reasons(lead))
            lead = transitions.reject_lead(lead, by=owner, reason=code, note=REJECT_NOTES[code], now=now)
            if rng.random() < 0.2 and later(60 * 24, 60 * 24 * 20):
                transitions.recycle_lead(lead, by=marketer, note="Back to nurture for the next campaign.", now=now)
            return
        lead = transitions.accept_lead(lead, by=owner, now=now)
        for _ in range(rng.randint(0, 3)):
            if later(60, 60 * 24 * 3) is None:
                return
            kind = rng.choice(list(ACTIVITY_NOTES))
            transitions.log_activity(lead, by=owner, kind=kind, note=ACTIVITY_NOTES[kind], now=now)
        if later(60 * 24, 60 * 24 * 14) is None:
            return
        roll = rng.random()
        if roll < 0.45:
            transitions.qualify_lead(lead, by=owner, note="Budget, authority, need and timing confirmed.", now=now)
        elif roll < 0.65:
            code = rng.choice([reason for reason in fitting_reasons(lead) if reason != "duplicate"])
            transitions.disqualify_lead(lead, by=owner, reason=code, note=REJECT_NOTES[code], now=now)
        elif roll < 0.75:
            others = [rep for rep in reps if rep != owner]
            transitions.reassign_lead(lead, by=manager, to=rng.choice(others), note="Territory change.", now=now)
