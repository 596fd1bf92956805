"""factory_boy factories. Rows land in the schema that is active: use them inside `in_company(...)`."""

from __future__ import annotations

import factory

from wuye.accounts.models import User, UserKind


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    name = factory.Faker("name", locale="zh_CN")
    kind = UserKind.STAFF
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def roles(
        self: User,
        create: bool,
        extracted: list[str] | None,
        **kwargs: object,
    ) -> None:
        if create and extracted:
            from django.contrib.auth.models import Group

            self.groups.set(Group.objects.filter(name__in=extracted))
